"""The API tier on Kubernetes (``platform=kubernetes``), beside the Docker components.

``cluster`` (``HiveKubernetes``: the explicit provider, the namespace, the pull
secret, the image's push and one ``KubernetesApi`` per mode), ``workload``
(``KubernetesApi``: a mode's Secret, Deployment, Service and PodDisruptionBudget, and when
configured its Ingress and NetworkPolicy),
``registry`` (``RegistryPush``: the built image pushed through a docker provider of
its own) and ``specs`` (the pod template, as plain values). Only this package
imports ``pulumi_kubernetes`` (the import rule's contracts say so).
"""
