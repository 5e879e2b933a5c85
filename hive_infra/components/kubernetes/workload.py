"""Component: one mode's API on Kubernetes: its Secret, Deployment, Service and, with more
than one replica, PodDisruptionBudget; when configured, its Ingress and NetworkPolicy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
    #: Run the image's own command once, alone, before the Deployment exists or changes (the
    #: image built here, whose command is known), so that its replicas never start together on an
    #: empty or older schema (docs/kubernetes.md: The first start).
    first_start: bool = False
    #: Resources the app needs before it starts (the database objects).
    depends_on: Sequence[pulumi.Resource] = ()
    #: The mode's Ingress (``ingressDomain``); None: none.
    entry: specs.Entry | None = None
    #: The PostgreSQL server's address or CIDR and port for the NetworkPolicy (``egressPostgresCidr``,
    #: ``dbPort``); None: no policy.
    egress_postgres: tuple[str, int] | None = None


#: pulumi-kubernetes' annotation that leaves an object's readiness unawaited.
SKIP_AWAIT = "pulumi.com/skipAwait"


class KubernetesApi(pulumi.ComponentResource):
    """A mode's pods, reached in the cluster through a Service named as its Docker container."""

    secret: k8s.core.v1.Secret
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    budget: k8s.policy.v1.PodDisruptionBudget | None
    first_start: k8s.batch.v1.Job | None
    ingress: k8s.networking.v1.Ingress | None
    policy: k8s.networking.v1.NetworkPolicy | None
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
        self.first_start = self._first_start(name, args, template) if args.first_start else None
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": args.service, "namespace": args.namespace, "labels": pod_labels},
            spec=specs.deployment_spec(args.replicas, pod_labels, template),
            # The provider's await: up returns once every replica is ready, or fails past the budget.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.secret, *args.depends_on, *([self.first_start] if self.first_start else [])],
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
        self._declare_edges(name, args, pod_labels)
        self.service_name = self.service.metadata.apply(lambda m: str(m.name))
        self.register_outputs({"service_name": self.service_name})

    def _declare_edges(self, name: str, args: KubernetesApiArgs, pod_labels: dict[str, str]) -> None:
        """The entry from outside and the network policy, each only when configured."""
        child = pulumi.ResourceOptions(parent=self)
        self.ingress = None
        if args.entry is not None:
            self.ingress = k8s.networking.v1.Ingress(
                f"{name}-ingress",
                # Not awaited: the provider would wait for a controller to write the Ingress's address,
                # which some never do (and none runs on the tier); up waits for the pods, not the edge.
                metadata={
                    "name": args.service,
                    "namespace": args.namespace,
                    "labels": pod_labels,
                    "annotations": {SKIP_AWAIT: "true"},
                },
                spec=specs.ingress_spec(args.entry, args.service, args.port),
                opts=child,
            )
        self.policy = None
        if args.egress_postgres is not None:
            cidr, postgres_port = args.egress_postgres
            self.policy = k8s.networking.v1.NetworkPolicy(
                f"{name}-network-policy",
                metadata={"name": args.service, "namespace": args.namespace, "labels": pod_labels},
                spec=specs.network_policy_spec(pod_labels, args.port, cidr, postgres_port),
                opts=child,
            )

    def _first_start(self, name: str, args: KubernetesApiArgs, template: dict[str, Any]) -> k8s.batch.v1.Job:
        """A Job (named by Pulumi: a changed template replaces it, the new one created first) that
        runs the app once, alone; the Deployment waits for it. Its pod is not the Service's."""
        job_labels = specs.labels(f"{args.service}-first-start", args.stack_label)
        return k8s.batch.v1.Job(
            f"{name}-first-start",
            metadata={"namespace": args.namespace, "labels": job_labels},
            spec={
                "backoff_limit": 1,
                "template": specs.first_start_pod(template, args.port, args.health_path, job_labels),
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.secret, *args.depends_on],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.health_timeout + 120}s"),
            ),
        )
