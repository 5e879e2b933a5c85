"""The Kubernetes tier's minimal Pulumi program: a Namespace, a 2-replica Deployment of
the smoke image and a ClusterIP Service in front of it, on the cluster KUBECONFIG names.

Config: ``image`` (pulled from the cluster's registry) and ``namespace``.
"""

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
labels = {"app": "pulumi-smoke"}

namespace = k8s.core.v1.Namespace("ns", metadata={"name": config.require("namespace")})
ns_name = namespace.metadata.apply(lambda m: m.name)
deployment = k8s.apps.v1.Deployment(
    "web",
    metadata={"namespace": ns_name, "name": "web"},
    spec={
        "replicas": 2,
        "selector": {"match_labels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "termination_grace_period_seconds": 2,
                "containers": [
                    {
                        "name": "web",
                        "image": config.require("image"),
                        "ports": [{"container_port": 8080}],
                        "readiness_probe": {"http_get": {"path": "/", "port": 8080}, "period_seconds": 1},
                    }
                ],
            },
        },
    },
)
service = k8s.core.v1.Service(
    "web",
    metadata={"namespace": ns_name, "name": "web"},
    spec={"selector": labels, "ports": [{"port": 80, "target_port": 8080}]},
    opts=pulumi.ResourceOptions(depends_on=[deployment]),
)

pulumi.export("cluster_ip", service.spec.apply(lambda s: s.cluster_ip))
pulumi.export("ready_replicas", deployment.status.apply(lambda s: s.ready_replicas))
