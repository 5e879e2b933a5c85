"""Each key of the ``hive`` namespace, declared once: a field of ``HiveConfig``.

A key is declared with ``setting(...)``: its default, description, secrecy and
the checks of its value. Its config name is the field name in camelCase
(``db_port`` -> ``hive:dbPort``) and its Pulumi type follows the field's type
(``hive_infra.config.keys`` reads the declarations back). Pure: no Pulumi.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hive_infra.config import rules
from hive_infra.core.api_image import DEFAULT_BASE_IMAGE, PINNED_APP_VERSION, default_health_path
from hive_infra.core.modes import MODE_NAMES, MODES, Mode
from hive_infra.core.names import DockerNames
from hive_infra.core.placement import (
    CONTAINER_MODE,
    DATABASE_ISOLATION,
    EXTERNAL_MODE,
    DatabasePlan,
    Placement,
    database_plans,
    place,
)
from hive_infra.core.platform import DOCKER_PLATFORM, KUBERNETES_PLATFORM, KubernetesNames, kubernetes_names
from hive_infra.core.ports import ModePorts, mode_ports

NAMESPACE = "hive"
#: sslMode when unset: the local container speaks no TLS; a server elsewhere must.
DEFAULT_SSL_MODE = {CONTAINER_MODE: "disable", EXTERNAL_MODE: "require"}

Check = Callable[[Any], Iterable[str]]


class ConfigError(Exception):
    """Invalid configuration; the message lists every problem (never a secret)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {NAMESPACE} configuration ({count} {noun}):\n{body}")


@dataclass(frozen=True)
class Declaration:
    """What one key is: everything but its name and type, which the field gives."""

    description: str
    secret: bool = False
    #: The README's words for the default of a key that has none in Pulumi.yaml.
    default_doc: str | None = None
    checks: tuple[Check, ...] = ()


def setting(
    default: Any,
    description: str,
    *checks: Check,
    secret: bool = False,
    default_doc: str | None = None,
) -> Any:
    """Declare a config key as a ``HiveConfig`` field."""
    declaration = Declaration(description, secret, default_doc, checks)
    return dataclasses.field(default=default, repr=not secret, metadata={"setting": declaration})


def secret_setting(description: str, min_length: int, *checks: Check, generated: str) -> Any:
    """Declare a secret key: unset by default (``generated`` says what happens
    then), and checked by the rules every supplied secret follows."""
    return setting(None, description, rules.check_secret(min_length), *checks, secret=True, default_doc=generated)


@dataclass(frozen=True)
class HiveConfig:
    """The validated configuration. Secrets are ``None`` when to be generated."""

    modes: tuple[str, ...] = setting(
        MODE_NAMES,
        "Modes to run (workspace, agent, genie); each gets an API port, a schema and a .env file.",
        rules.check_modes,
    )
    db_port: int = setting(5532, "Host port of the shared PostgreSQL; every mode uses it.", rules.check_port)
    api_port: int = setting(
        8886, "Base API port; agent and genie write 3 and 4 in front (38886, 48886).", rules.check_port
    )
    database: str = setting(
        "hive",
        "Base database name: workspace's database (agent and genie add `_agent`, `_genie` with "
        "isolation=database), or the one database of every mode with isolation=schema.",
        rules.check_database_name,
    )
    isolation: str = setting(
        DATABASE_ISOLATION,
        "`database`: a database per mode in the shared server, so no mode sees another's rows; `schema`: one "
        "database, a schema per mode (the application's own schemas are then shared by every mode).",
        rules.check_isolation,
    )
    db_user: str = setting(
        "hive",
        "Login role of the application: not a superuser, but for a legacy dataPath whose superuser is the login.",
        rules.check_not_reserved_role,
    )
    db_password: str | None = secret_setting(
        "Password of dbUser; at least 16 characters.",
        rules.MIN_SECRET_LENGTH,
        rules.check_no_backslash,
        generated="generated (32 chars)",
    )
    admin_password: str | None = secret_setting(
        "Password of the PostgreSQL admin (adminUser); at least 16 characters. Keep it stable: the data keeps the "
        "first one.",
        rules.MIN_SECRET_LENGTH,
        generated="generated (32 chars) in container mode; required otherwise",
    )
    api_key_base: str | None = secret_setting(
        "Base of every API key; at least 33 URL-safe characters.",
        rules.MIN_API_KEY_BASE_LENGTH,
        rules.check_api_key_chars,
        generated="generated (43 chars)",
    )
    postgres_image: str = setting("agnohq/pgvector:16", "Image of the PostgreSQL container.", rules.check_image)
    api_image: str | None = setting(
        None,
        "Image of the API containers; unset, `pulumi up` builds one (hive_infra/image) with automagik-hive "
        "apiVersion on apiBaseImage. The 0.x app: ghcr.io/namastexlabs/automagik-hive:latest.",
        rules.check_image,
        default_doc="unset: built here",
    )
    api_version: str = setting(
        PINNED_APP_VERSION,
        "automagik-hive version the built image installs (not with apiImage); the default is the tested pin, "
        "installed with its exact dependencies; any other version installs unconstrained (untested).",
        rules.check_app_version,
    )
    api_base_image: str = setting(
        DEFAULT_BASE_IMAGE,
        "Base of the built API image (not with apiImage): a Debian-based image with python3 3.11+ and venv.",
        rules.check_image,
    )
    api_project_dir: str | None = setting(
        None,
        "The hive project (hive.yaml, ai/, pyproject.toml) every API container serves, bind-mounted at /app; "
        "`{mode}` in it stands for the mode (`./projects/{mode}`: one per mode). Relative to the project or "
        "absolute; checked before any resource. On Kubernetes it is baked into an image pushed to imageRegistry "
        "(without .env*, .git/, data/, logs/; docs/kubernetes.md).",
        rules.check_project_dir,
        default_doc="unset: the image's own project",
    )
    api_health_path: str | None = setting(
        None,
        "Path the API containers' healthcheck requests.",
        rules.check_url_path,
        default_doc="`/health`; `/api/v1/health` when apiImage is a ghcr.io/namastexlabs/automagik-hive (0.x) image",
    )
    api_health_timeout: int = setting(
        180,
        "Seconds `pulumi up` waits for each new API container to report healthy; up fails past it, or at once "
        "when the app keeps exiting, naming the container and `docker logs <container>`.",
        rules.check_health_timeout,
    )
    api_containers: bool = setting(True, "Run one API container per mode (false to run the API yourself).")
    bind_address: str = setting("127.0.0.1", "Host address every port is published on.", rules.check_ip_address)
    name_prefix: str = setting(
        "hive",
        "Prefix of Docker names (`<prefix>-postgres-shared`, `<prefix>-network`, ...).",
        rules.check_docker_prefix,
    )
    extensions: tuple[str, ...] = setting(
        ("vector",), "Extensions created in the extensions schema.", rules.check_extensions
    )
    protect_data: bool = setting(
        False,
        "Protect the stack's data: `pulumi destroy` fails before it deletes anything, and the data volumes "
        "(PostgreSQL's and each API container's logs and data) cannot be deleted by any `up`.",
    )
    env_dir: str = setting(
        ".",
        "Folder of the .env files, relative to the project or absolute.",
        rules.check_env_dir,
    )
    postgres_mode: str = setting(
        CONTAINER_MODE,
        "`container` runs the shared PostgreSQL here; `external` uses the server at postgresHost.",
        rules.check_postgres_mode,
    )
    postgres_host: str | None = setting(
        None, "External mode only (required there): the server's host.", rules.check_host, default_doc="unset"
    )
    admin_user: str = setting(
        "postgres",
        "The superuser the container is initialised with, or the admin login of an external server.",
        rules.check_admin_role,
    )
    ssl_mode: str | None = setting(
        None,
        "libpq sslmode of the admin connection and, in external mode, of the rendered URLs.",
        rules.check_ssl_mode,
        default_doc="`disable` (container), `require` (external)",
    )
    data_path: str | None = setting(
        None,
        "Container mode only: absolute host folder bind-mounted as the data (e.g. a legacy ./data/postgres) "
        "instead of the named volume; needs adminPassword.",
        default_doc="unset",
    )
    drop_schemas_on_destroy: bool = setting(
        False,
        "External mode only: destroy drops the schemas with their tables, the database and the role; "
        "otherwise it leaves them.",
    )
    adopt_database: bool = setting(
        False,
        "dbUser and database exist already (an existing server): the stack neither creates, alters nor drops "
        "them; it creates the other modes' databases; needs dbPassword.",
    )
    backup_on_destroy: bool = setting(
        True,
        "Before `pulumi destroy` deletes the stack's data (the PostgreSQL data volume; with "
        "dropSchemasOnDestroy, an external server's databases), dump every mode's database into backupDir as "
        "`db dump` does; a failed dump stops the destroy with nothing deleted. `false`: no backup.",
    )
    backup_dir: str = setting(
        "backups",
        "Folder of those backups (a new 0700 folder per destroy, never pruned), relative to the project or absolute.",
        rules.check_env_dir,
    )
    allow_isolation_change: bool = setting(
        False,
        "Let `pulumi up` change isolation on a stack deployed with the other one (back up first: the modes' "
        "existing rows stay where they are).",
    )

    platform: str = setting(
        DOCKER_PLATFORM,
        "Where the API runs: `docker`, a container per mode on this machine; `kubernetes`, a Deployment and a "
        "Service per mode on a cluster, against a managed PostgreSQL (postgresMode=external; docs/kubernetes.md).",
        rules.check_platform,
    )
    kubeconfig: str | None = setting(
        None,
        "Kubernetes only: the kubeconfig file, relative to the project or absolute.",
        rules.check_env_dir,
        default_doc="unset: `KUBECONFIG`, else ~/.kube/config",
    )
    kube_context: str | None = setting(
        None, "Kubernetes only: the kubeconfig's context.", default_doc="unset: the kubeconfig's current context"
    )
    kube_namespace: str | None = setting(
        None,
        "Kubernetes only: the namespace the stack creates and deploys into; it must not exist before.",
        rules.check_kube_namespace,
        default_doc="namePrefix",
    )
    api_replicas: int = setting(
        2, "Kubernetes only: pods per mode; above 1, a PodDisruptionBudget keeps one up.", rules.check_replicas
    )
    api_cpu_request: str = setting("250m", "Kubernetes only: each API pod's CPU request.", rules.check_quantity)
    api_memory_request: str = setting("512Mi", "Kubernetes only: each API pod's memory request.", rules.check_quantity)
    api_cpu_limit: str = setting("2", "Kubernetes only: each API pod's CPU limit.", rules.check_quantity)
    api_memory_limit: str = setting("2Gi", "Kubernetes only: each API pod's memory limit.", rules.check_quantity)
    image_registry: str | None = setting(
        None,
        "Kubernetes only: where the built API image is pushed (`host[:port][/path]`) and the pods pull it from; "
        "required unless apiImage is set.",
        rules.check_registry,
        default_doc="unset",
    )
    image_registry_user: str | None = setting(
        None,
        "Kubernetes only: the login of imageRegistry (with imageRegistryPassword), for the push and the pods' "
        "imagePullSecret.",
        default_doc="unset: no login",
    )
    image_registry_password: str | None = setting(
        None,
        "Kubernetes only: the password or token of imageRegistryUser.",
        secret=True,
        default_doc="unset: no login",
    )
    ingress_domain: str | None = setting(
        None,
        "Kubernetes only: declares an Ingress per mode, serving it at `<service>.<ingressDomain>` (such as "
        "hive-agents.hive.example.com) through the cluster's ingress controller.",
        rules.check_ingress_domain,
        default_doc="unset: no Ingress",
    )
    ingress_class: str | None = setting(
        None,
        "Kubernetes only, with ingressDomain: the Ingresses' IngressClass.",
        rules.check_object_name,
        default_doc="unset: the cluster's default class",
    )
    ingress_tls: str | None = setting(
        None,
        "Kubernetes only, with ingressDomain: a TLS Secret in the namespace (a certificate for "
        "`*.<ingressDomain>`) the Ingresses serve HTTPS with.",
        rules.check_object_name,
        default_doc="unset: no TLS",
    )
    egress_postgres_cidr: str | None = setting(
        None,
        "Kubernetes only: declares a NetworkPolicy per mode (in: the API port; out: DNS, this address or CIDR "
        "on dbPort, HTTPS); the PostgreSQL server's address as the cluster reaches it.",
        rules.check_cidr,
        default_doc="unset: no NetworkPolicy",
    )

    @property
    def builds_api_image(self) -> bool:
        """The stack builds the API image (``apiImage`` unset)."""
        return self.api_image is None

    @property
    def health_path(self) -> str:
        """``apiHealthPath``, or the default for the image the containers run."""
        return self.api_health_path or default_health_path(self.api_image)

    @property
    def effective_ssl_mode(self) -> str:
        return self.ssl_mode or DEFAULT_SSL_MODE[self.postgres_mode]

    @property
    def legacy_superuser_login(self) -> bool:
        """A legacy data folder whose superuser is the app's login."""
        return rules.superuser_login(self.data_path, self.db_user, self.admin_user)

    @property
    def manages_role_and_database(self) -> bool:
        """False where dbUser and the database exist already (``adoptDatabase``,
        or a legacy data folder's superuser login): they are not the stack's to
        create, alter or drop."""
        return not (self.adopt_database or self.legacy_superuser_login)

    @property
    def destroy_deletes_data(self) -> bool:
        """``pulumi destroy`` deletes the modes' rows: the stack's own server's data
        volume (a bound dataPath stays), or an external server's with dropSchemasOnDestroy."""
        return self.drop_schemas_on_destroy if self.external else self.data_path is None

    @property
    def backup_before_delete(self) -> bool:
        return self.backup_on_destroy and self.destroy_deletes_data

    @property
    def data_location(self) -> str | None:
        """Where the stack's own server keeps the data (None: a server elsewhere)."""
        if self.external:
            return None
        return f"folder {self.data_path}" if self.data_path is not None else f"volume {self.names.postgres_volume}"

    @property
    def external(self) -> bool:
        return self.postgres_mode == EXTERNAL_MODE

    @property
    def kubernetes(self) -> bool:
        return self.platform == KUBERNETES_PLATFORM

    @property
    def kube_names(self) -> KubernetesNames:
        return kubernetes_names(self.kube_namespace, self.name_prefix)

    @property
    def mode_table(self) -> tuple[Mode, ...]:
        return tuple(MODES[name] for name in self.modes)

    @property
    def names(self) -> DockerNames:
        return DockerNames(self.name_prefix)

    def ports(self, mode: Mode) -> ModePorts:
        return mode_ports(mode, self.db_port, self.api_port)

    @property
    def placements(self) -> tuple[Placement, ...]:
        """Where each selected mode's data lives, in the order of ``modes``."""
        return tuple(place(m, self.database, self.isolation) for m in self.mode_table)

    def database_plans(self) -> tuple[DatabasePlan, ...]:
        """The databases the stack puts objects in; ``database`` itself is an
        existing one where the stack does not manage the role and database."""
        return database_plans(self.placements, self.database, base_exists=not self.manages_role_and_database)
