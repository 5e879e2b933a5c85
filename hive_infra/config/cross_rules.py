"""How the config keys fit together: the rules that relate several values.

Pure, beside ``rules`` (one value at a time). ``check_together`` takes the
``Candidate`` (what the rules read of every key's parsed value, None where a key
is unset or failed to parse) and adds every problem it finds, each naming its
key; ``parse_config`` builds the ``HiveConfig`` only once no problem is left.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hive_infra.config.rules import (
    TLS_SSL_MODES,
    Problems,
    check_role_name,
    identifier_problem,
    superuser_login,
)
from hive_infra.core.modes import MODES
from hive_infra.core.names import is_this_machine
from hive_infra.core.placement import CONTAINER_MODE, EXTERNAL_MODE, ISOLATIONS, database_name
from hive_infra.core.platform import DNS_LABEL, KUBERNETES_PLATFORM, SERVICE_NAME, kubernetes_names
from hive_infra.core.ports import MAX_PORT, MIN_PORT, mode_ports, port_in_range


@dataclass(frozen=True)
class Candidate:
    """The config being validated, as the rules read it: each field a ``HiveConfig``
    field of the same name and type, but None where the key is unset or failed to
    parse (its own problem is then reported, and the rules that need it stay silent)."""

    modes: tuple[str, ...] | None
    db_port: int | None
    api_port: int | None
    database: str | None
    isolation: str | None
    db_user: str | None
    db_password: str | None
    admin_user: str | None
    admin_password: str | None
    adopt_database: bool | None
    data_path: str | None
    postgres_mode: str | None
    postgres_host: str | None
    ssl_mode: str | None
    drop_schemas_on_destroy: bool | None
    api_containers: bool | None
    protect_data: bool | None
    bind_address: str | None
    name_prefix: str | None
    api_image: str | None
    api_project_dir: str | None
    platform: str | None
    kubeconfig: str | None
    kube_context: str | None
    kube_namespace: str | None
    api_replicas: int | None
    api_cpu_request: str | None
    api_memory_request: str | None
    api_cpu_limit: str | None
    api_memory_limit: str | None
    image_registry: str | None
    image_registry_user: str | None
    image_registry_password: str | None
    ingress_domain: str | None
    ingress_class: str | None
    ingress_tls: str | None
    egress_postgres_cidr: str | None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Candidate:
        """From every key's parsed value, by ``HiveConfig`` field name."""
        return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls)})


def check_together(cfg: Candidate, problems: Problems, defaults: Mapping[str, Any]) -> None:
    """The rules that relate keys, on the candidate ``cfg``; ``defaults``: each field's default,
    by ``HiveConfig`` field name (a Kubernetes key set on Docker is one away from its default)."""
    _check_derived_ports(cfg, problems)
    _check_derived_databases(cfg, problems)
    _check_roles(cfg, problems)
    mode = cfg.postgres_mode
    if mode == CONTAINER_MODE:
        _check_container_mode(cfg, problems)
    elif mode == EXTERNAL_MODE:
        _check_external_mode(cfg, problems)
    if cfg.platform == KUBERNETES_PLATFORM:
        _check_kubernetes(cfg, problems)
    else:
        _check_docker_platform(cfg, problems, defaults)


def _check_derived_ports(cfg: Candidate, problems: Problems) -> None:
    modes, db_port, api_port = cfg.modes, cfg.db_port, cfg.api_port
    if modes is None or db_port is None or api_port is None:
        return
    if not (port_in_range(db_port) and port_in_range(api_port)):
        return
    owners: dict[int, str] = {db_port: "the database (dbPort)"}
    for name in dict.fromkeys(modes):
        mode = MODES.get(name)
        if mode is None:
            continue
        port = mode_ports(mode, db_port, api_port).api
        if not port_in_range(port):
            problems.add(
                "apiPort",
                f"gives mode {name} the API port {port} ({mode.port_prefix!r} + {api_port}), outside "
                f"{MIN_PORT}..{MAX_PORT}; choose a base API port of at most 4 digits, such as 8886",
            )
            continue
        if port in owners:
            problems.add(
                "apiPort" if owners[port] != "the database (dbPort)" else "dbPort",
                f"mode {name}'s API port {port} collides with {owners[port]}; change dbPort or apiPort",
            )
        owners.setdefault(port, f"mode {name}'s API port")


def _check_derived_databases(cfg: Candidate, problems: Problems) -> None:
    """Every mode's own database name (``<database>_<mode>``) is a plain identifier too."""
    modes, base, isolation = cfg.modes, cfg.database, cfg.isolation
    if modes is None or base is None or isolation not in ISOLATIONS or identifier_problem(base) is not None:
        return
    for name in dict.fromkeys(modes):
        mode = MODES.get(name)
        if mode is None:
            continue
        derived = database_name(base, mode, isolation)
        if derived != base and identifier_problem(derived) is not None:
            problems.add(
                "database",
                f"gives mode {name} the database {derived!r}, longer than PostgreSQL's 63 characters; "
                f"use a base name of at most {63 - len(mode.database_suffix)} characters",
            )


def _check_roles(cfg: Candidate, problems: Problems) -> None:
    user = cfg.db_user
    superuser = superuser_login(cfg.data_path, user, cfg.admin_user)
    if user is not None and (cfg.adopt_database or superuser):
        for message in check_role_name(user):
            problems.add("dbUser", message)
    elif user is not None and (problem := identifier_problem(user)) is not None:
        problems.add("dbUser", problem)
    if cfg.adopt_database and cfg.db_password is None:
        problems.add("dbPassword", "is required with hive:adoptDatabase (the existing role's current password)")
    if user is not None and user == cfg.admin_user and not superuser:
        # Allowed only for a legacy data folder, whose superuser is the app's login.
        problems.add(
            "dbUser",
            f"{user!r} is also the admin (hive:adminUser); the application's role must not be the superuser "
            "(only a legacy hive:dataPath may keep its superuser as the login)",
        )


def _check_container_mode(cfg: Candidate, problems: Problems) -> None:
    for key, value in (("postgresHost", cfg.postgres_host), ("dropSchemasOnDestroy", cfg.drop_schemas_on_destroy)):
        if value not in (None, False):
            problems.add(key, "applies only with postgresMode=external; unset it or set hive:postgresMode external")
    if cfg.ssl_mode in TLS_SSL_MODES:
        problems.add(
            "sslMode",
            f"{cfg.ssl_mode!r} needs TLS, which the local container does not speak; unset it (disable) or use prefer",
        )
    data_path = cfg.data_path
    if cfg.adopt_database and data_path is None:
        problems.add(
            "adoptDatabase",
            "applies to an existing server or data folder; the container starts empty without hive:dataPath, "
            "so there is nothing to adopt: unset it, or set hive:dataPath",
        )
    if data_path is None:
        return
    if not data_path.startswith("/"):
        problems.add("dataPath", f"{data_path!r} must be an absolute path (Docker bind-mounts absolute paths only)")
    # Existing data keeps the logins it was initialised with: nothing generated can match them.
    if cfg.admin_password is None:
        problems.add("adminPassword", "is required with hive:dataPath (the data folder's superuser password)")
    if superuser_login(data_path, cfg.db_user, cfg.admin_user) and cfg.db_password != cfg.admin_password:
        problems.add(
            "dbPassword",
            "must equal hive:adminPassword when hive:dbUser is the data folder's superuser (one login, one password)",
        )


def _check_external_mode(cfg: Candidate, problems: Problems) -> None:
    host = cfg.postgres_host
    if not host:
        problems.add("postgresHost", "is required with postgresMode=external; set it to the server's host name")
    elif cfg.platform == KUBERNETES_PLATFORM and is_this_machine(host):
        problems.add(
            "postgresHost",
            f"{host!r} is this machine's loopback, which the cluster's pods cannot reach; use an address they "
            "can reach (the managed server's name or IP)",
        )
    elif cfg.api_containers and is_this_machine(host):
        problems.add(
            "postgresHost",
            f"{host!r} is this machine's loopback, which API containers cannot reach; use an address they can "
            "reach (e.g. host.docker.internal) or set hive:apiContainers false",
        )
    if cfg.admin_password is None:
        problems.add("adminPassword", "is required with postgresMode=external (the admin login of that server)")
    if cfg.data_path is not None:
        problems.add("dataPath", "applies only with postgresMode=container; unset it")
    if cfg.protect_data:
        problems.add("protectData", "applies only with postgresMode=container (it protects the data volume)")


#: The fields only platform=kubernetes reads (``kube_context`` is the key ``kubeContext``).
KUBERNETES_FIELDS = (
    "kubeconfig", "kube_context", "kube_namespace", "api_replicas", "api_cpu_request", "api_memory_request",
    "api_cpu_limit", "api_memory_limit", "image_registry", "image_registry_user", "image_registry_password",
    "ingress_domain", "ingress_class", "ingress_tls", "egress_postgres_cidr",
)  # fmt: skip
#: The default of ``bindAddress``: the only value kubernetes takes (it publishes no host port).
DEFAULT_BIND_ADDRESS = "127.0.0.1"


def _check_docker_platform(cfg: Candidate, problems: Problems, defaults: Mapping[str, Any]) -> None:
    for name in KUBERNETES_FIELDS:
        if getattr(cfg, name) not in (None, defaults.get(name)):
            head, *rest = name.split("_")
            key = head + "".join(part.capitalize() for part in rest)
            problems.add(key, "applies only with platform=kubernetes; unset it or set hive:platform kubernetes")


def _check_kubernetes(cfg: Candidate, problems: Problems) -> None:
    """What a cluster needs: a PostgreSQL the pods reach, the API run there, names Kubernetes takes."""
    if cfg.postgres_mode not in (None, EXTERNAL_MODE):
        problems.add(
            "postgresMode",
            "platform=kubernetes needs a managed PostgreSQL the pods reach: set hive:postgresMode external and "
            "hive:postgresHost (docs/kubernetes.md), or use platform=docker",
        )
    if cfg.api_containers is False:
        problems.add("apiContainers", "platform=kubernetes runs the API on the cluster; unset hive:apiContainers")
    if cfg.bind_address not in (None, DEFAULT_BIND_ADDRESS):
        problems.add(
            "bindAddress",
            "publishes Docker ports, which platform=kubernetes has none of (reach a Service in the cluster or with "
            "`kubectl port-forward`); unset it",
        )
    if cfg.api_project_dir is not None and cfg.image_registry is None:
        problems.add(
            "apiProjectDir",
            "with platform=kubernetes is baked into a project image built here and pushed to hive:imageRegistry "
            "(pods cannot mount a folder of this machine); set hive:imageRegistry, or unset hive:apiProjectDir",
        )
    if cfg.api_image is None and cfg.image_registry is None:
        problems.add(
            "imageRegistry",
            "is required with platform=kubernetes when the stack builds the API image (the cluster pulls it from "
            "there); set it, or set hive:apiImage to an image the cluster can pull",
        )
    if (cfg.image_registry_user is None) != (cfg.image_registry_password is None):
        problems.add("imageRegistryUser", "and hive:imageRegistryPassword go together; set both or neither")
    for key, value in (("ingressClass", cfg.ingress_class), ("ingressTls", cfg.ingress_tls)):
        if value is not None and cfg.ingress_domain is None:
            problems.add(
                key, "applies only with hive:ingressDomain (no Ingress is declared without it); set it or unset this"
            )
    _check_kubernetes_names(cfg, problems)


def _check_kubernetes_names(cfg: Candidate, problems: Problems) -> None:
    # None where a key failed to parse (its own problem is reported).
    prefix: str | None = cfg.name_prefix
    modes: tuple[str, ...] | None = cfg.modes
    if prefix is None or modes is None:
        return
    names = kubernetes_names(cfg.kube_namespace, prefix)
    if cfg.kube_namespace is None and not DNS_LABEL.fullmatch(prefix):
        problems.add("namePrefix", f"{prefix!r} is not a Kubernetes namespace; set hive:kubeNamespace")
    for mode in (MODES[m] for m in dict.fromkeys(modes) if m in MODES):
        if not SERVICE_NAME.fullmatch(names.service(mode)) or len(names.budget(mode)) > 63:
            problems.add(
                "namePrefix",
                f"gives the Service {names.service(mode)!r}, not a Kubernetes name; use lower-case letters, digits "
                "and '-', starting with a letter, at most 30 characters",
            )
            return
