"""Component: one mode's API on Kubernetes: its Secret, Deployment, Service and, with more
than one replica, PodDisruptionBudget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from hive_infra.components.kubernetes import specs


@dataclass(frozen=True)
class KubernetesApiArgs:
    #: The Deployment's and the Service's name (the Docker container's: ``hive-agents``).
    service: str
    #: The Secret's name (``<service>-env``) and the PodDisruptionBudget's.
    secret: str
    budget: str
    namespace: pulumi.Input[str]
    #: The image the pods run (pushed to the registry, or ``apiImage``).
    image: pulumi.Input[str]
    port: int
    #: ``KEY=value`` strings (secret: the database URL, the API key and the user's own keys).
    env: pulumi.Input[Sequence[str]] = field(repr=False)
    replicas: int
    resources: specs.Resources
    health_path: str
    #: Seconds a new pod may take to answer its health path (``apiHealthTimeout``).
    health_timeout: int
    #: ``app.kubernetes.io/instance``'s value: the stack.
    stack_label: str
    #: The imagePullSecret's name; None: the image is pulled without a login.
    pull_secret: str | None = None
    #: Resources the app needs before it starts (the database objects).
    depends_on: Sequence[pulumi.Resource] = ()


class KubernetesApi(pulumi.ComponentResource):
    """A mode's pods, reached in the cluster through a Service named as its Docker container."""

    secret: k8s.core.v1.Secret
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    budget: k8s.policy.v1.PodDisruptionBudget | None
    #: The Service's name, once it exists.
    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: KubernetesApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:KubernetesApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pod_labels = specs.labels(args.service, args.stack_label)
        entries = pulumi.Output.secret(args.env).apply(specs.env_map)
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": args.secret, "namespace": args.namespace, "labels": pod_labels},
            type="Opaque",
            string_data=entries,
            opts=child,
        )
        # A hash shows that a value changed, not the value: plain, so that it is no secret in the spec.
        checksum = pulumi.Output.unsecret(entries.apply(specs.checksum))
        api_container = specs.container(
            args.image, args.port, args.secret, args.health_path, args.health_timeout, args.resources
        )
        template = specs.pod_template(pod_labels, api_container, checksum, args.pull_secret)
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": args.service, "namespace": args.namespace, "labels": pod_labels},
            spec=specs.deployment_spec(args.replicas, pod_labels, template),
            # The provider's await: up returns once every replica is ready, or fails past the budget.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.secret, *args.depends_on],
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{args.health_timeout + 120}s", update=f"{args.health_timeout + 120}s"
                ),
            ),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": args.service, "namespace": args.namespace, "labels": pod_labels},
            spec=specs.service_spec(pod_labels, args.port),
            opts=child,
        )
        self.budget = None
        if args.replicas > 1:
            # A drained node takes at most all but one pod at a time.
            self.budget = k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata={"name": args.budget, "namespace": args.namespace, "labels": pod_labels},
                spec={"min_available": 1, "selector": {"match_labels": pod_labels}},
                opts=child,
            )
        self.service_name = self.service.metadata.apply(lambda m: str(m.name))
        self.register_outputs({"service_name": self.service_name})
