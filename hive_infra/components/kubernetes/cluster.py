"""Component: the stack's API tier on a cluster: an explicit ``pulumi_kubernetes`` provider,
the namespace, the registry's pull secret, the image's push and one ``KubernetesApi`` per mode."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from hive_infra.components.kubernetes import specs
from hive_infra.components.kubernetes.project import ProjectImage, ProjectImageArgs
from hive_infra.components.kubernetes.registry import RegistryPush, RegistryPushArgs
from hive_infra.components.kubernetes.workload import KubernetesApi, KubernetesApiArgs
from hive_infra.config import HiveConfig
from hive_infra.core.modes import Mode
from hive_infra.core.platform import label_value, pushed_image, registry_host
from hive_infra.core.project_image import project_tag
from hive_infra.machine.project_image import StagedProject


@dataclass(frozen=True)
class BuiltImage:
    """The API image on this machine (``HiveStack``'s ``RemoteImage``): built here, or ``apiImage`` pulled."""

    tag: str
    image_id: pulumi.Input[str]


@dataclass(frozen=True)
class HiveKubernetesArgs:
    config: HiveConfig
    #: The stack's label value (``project/stack``).
    stack_label: str
    #: Each mode's ``KEY=value`` strings for its pods (secret), by mode name.
    env: Callable[[Mode], pulumi.Input[Sequence[str]]] = field(repr=False)
    #: The image built here; None with ``apiImage`` (the pods pull it as it is).
    built: BuiltImage | None = None
    #: Each mode's staged project (``apiProjectDir``), baked over the app image and pushed; empty: none.
    projects: Mapping[str, StagedProject] = field(default_factory=dict)
    #: ``apiImage`` pulled to this machine, for the project layers to go on (with ``apiImage`` and a project).
    pulled: BuiltImage | None = None
    #: The registry's password (secret), with ``imageRegistryUser``.
    registry_password: pulumi.Input[str] | None = field(default=None, repr=False)
    #: Resources the app needs before it starts (the database objects).
    depends_on: Sequence[pulumi.Resource] = ()


class HiveKubernetes(pulumi.ComponentResource):
    """Every mode's API as a Deployment and a Service in the stack's namespace."""

    provider: k8s.Provider
    namespace: k8s.core.v1.Namespace
    #: The namespace's name, once it exists.
    namespace_name: pulumi.Output[str]
    api: dict[str, KubernetesApi]
    #: The app image's push; None with ``apiImage``, or when every mode runs its project image.
    push: RegistryPush | None
    #: Each mode's project image, by mode name (``apiProjectDir``); modes with the same project share one.
    projects: dict[str, ProjectImage]

    def __init__(self, name: str, args: HiveKubernetesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:HiveKubernetes", name, None, opts)
        cfg = args.config
        names = cfg.kube_names
        self.provider = k8s.Provider(
            f"{name}-provider",
            # A path, resolved here: the provider runs elsewhere. Unset: KUBECONFIG, else ~/.kube/config.
            kubeconfig=os.path.abspath(cfg.kubeconfig) if cfg.kubeconfig is not None else None,
            context=cfg.kube_context,
            # The provider is replaced (and every object with it) only when the namespace changes,
            # never because the kubeconfig's file moved or its credentials rotated.
            cluster_identifier=f"hive-{names.namespace}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": names.namespace, "labels": specs.labels(names.namespace, args.stack_label)},
            opts=on_cluster,
        )
        self.namespace_name = self.namespace.metadata.apply(lambda m: str(m.name))
        pull_secret = self._pull_secret(name, args, on_cluster)
        images = self._images(name, args)
        self.api = {
            mode.name: KubernetesApi(
                f"{name}-{mode.name}",
                KubernetesApiArgs(
                    service=names.service(mode),
                    secret=names.secret(mode),
                    budget=names.budget(mode),
                    namespace=self.namespace_name,
                    image=images[mode.name],
                    port=cfg.ports(mode).api,
                    env=args.env(mode),
                    replicas=cfg.api_replicas,
                    resources=specs.Resources(
                        cfg.api_cpu_request, cfg.api_memory_request, cfg.api_cpu_limit, cfg.api_memory_limit
                    ),
                    health_path=cfg.health_path,
                    health_timeout=cfg.api_health_timeout,
                    stack_label=args.stack_label,
                    pull_secret=None if pull_secret is None else names.pull_secret,
                    first_start=args.built is not None,
                    entry=_entry(cfg, names.service(mode)),
                    egress_postgres=None
                    if cfg.egress_postgres_cidr is None
                    else (_cidr(cfg.egress_postgres_cidr), cfg.db_port),
                    depends_on=[*args.depends_on, *([] if pull_secret is None else [pull_secret])],
                ),
                opts=pulumi.ResourceOptions(parent=self, providers=[self.provider]),
            )
            for mode in cfg.mode_table
        }
        self.register_outputs({"namespace_name": self.namespace_name})

    def _pull_secret(
        self, name: str, args: HiveKubernetesArgs, opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.Secret | None:
        """The registry's login as an imagePullSecret, when there is one."""
        cfg = args.config
        user = cfg.image_registry_user
        if user is None or args.registry_password is None:
            return None
        registry = registry_host(cfg.image_registry or cfg.api_image or "")
        content = pulumi.Output.secret(args.registry_password).apply(
            lambda password: specs.docker_config_json(registry, user, password)
        )
        return k8s.core.v1.Secret(
            f"{name}-pull-secret",
            metadata={"name": cfg.kube_names.pull_secret, "namespace": self.namespace_name},
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": content},
            opts=opts,
        )

    def _images(self, name: str, args: HiveKubernetesArgs) -> dict[str, pulumi.Input[str]]:
        """Each mode's image: its project image (``apiProjectDir``), else the app image."""
        cfg = args.config
        self.projects = {}
        local = args.built or args.pulled
        if not args.projects:
            app = self._image(name, args)
            return {mode.name: app for mode in cfg.mode_table}
        if local is None or cfg.image_registry is None:
            raise ValueError("HiveKubernetesArgs.projects needs the app image on this machine and imageRegistry")
        self.push = None  # every mode runs its project image: the app image itself is not pushed
        # One image per distinct project (one folder for every mode is one image), named by its first
        # mode; each pushed after the one before, since pushes sharing unpushed base layers can fail
        # in the registry (distribution/distribution#2073: a 500 seen here).
        by_digest: dict[str, list[str]] = {}
        for mode in cfg.mode_table:
            by_digest.setdefault(args.projects[mode.name].digest, []).append(mode.name)
        after: list[pulumi.Resource] = []
        for modes in by_digest.values():
            staged = args.projects[modes[0]]
            project = ProjectImage(
                f"{name}-{modes[0]}-project",
                ProjectImageArgs(
                    context=staged.context,
                    tag=project_tag(local.tag, staged.digest),
                    base=local.tag,
                    base_id=local.image_id,
                    registry=cfg.image_registry,
                    user=cfg.image_registry_user,
                    password=args.registry_password,
                    after=tuple(after),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.projects.update(dict.fromkeys(modes, project))
            after = [project.push.image]
        return {mode: project.pinned for mode, project in self.projects.items()}

    def _image(self, name: str, args: HiveKubernetesArgs) -> pulumi.Input[str]:
        """``apiImage`` as it is, or the image built here pushed to ``imageRegistry`` (by digest)."""
        cfg = args.config
        if args.built is None or cfg.image_registry is None:
            self.push = None
            return cfg.api_image or ""
        self.push = RegistryPush(
            f"{name}-image",
            RegistryPushArgs(
                source=args.built.tag,
                source_id=args.built.image_id,
                target=pushed_image(cfg.image_registry, args.built.tag),
                user=cfg.image_registry_user,
                password=args.registry_password,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return self.push.pinned


def _entry(cfg: HiveConfig, service: str) -> specs.Entry | None:
    """The mode's Ingress at ``<service>.<ingressDomain>``, when ``ingressDomain`` is set."""
    if cfg.ingress_domain is None:
        return None
    return specs.Entry(f"{service}.{cfg.ingress_domain}", cfg.ingress_class, cfg.ingress_tls)


def _cidr(value: str) -> str:
    """An address as the one-address network an ipBlock takes (``10.0.0.5`` -> ``10.0.0.5/32``)."""
    return str(ipaddress.ip_network(value))


def stack_label(project: str, stack: str) -> str:
    """The stack as a label value (``project.stack``)."""
    return label_value(f"{project}.{stack}")
