"""Legacy and clashing Docker containers, found through the Docker SDK."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hive_infra.config import HiveConfig
from hive_infra.core.modes import MODES
from hive_infra.core.names import LEGACY_NAMES
from hive_infra.legacy.data_dir import DataDir

DockerFactory = Callable[[], Any]


def default_docker_factory() -> Any:
    import docker  # imported late: only --detect needs the Docker SDK

    return docker.from_env()


def _docker_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, ImportError]  # ImportError: no Docker SDK installed
    try:
        from docker.errors import DockerException

        errors.append(DockerException)
    except ImportError:  # pragma: no cover - docker is a runtime dependency
        pass
    try:
        from requests.exceptions import RequestException

        errors.append(RequestException)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def _host_ports(ports: Mapping[str, Any] | None) -> list[tuple[int, str]]:
    """``(host_port, "host:port->container")`` pairs of a Docker port map."""
    out: list[tuple[int, str]] = []
    for container_port, bindings in (ports or {}).items():
        for binding in bindings or ():
            host_port = str(binding.get("HostPort") or "")
            if not host_port.isdigit():
                continue
            host_ip = binding.get("HostIp") or "0.0.0.0"
            text = f"{host_ip}:{host_port}->{container_port}"
            if (int(host_port), text) not in out:
                out.append((int(host_port), text))
    return out


def _mounts(attrs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(source, "kind source->destination")`` of each mount."""
    out = []
    for mount in attrs.get("Mounts") or ():
        kind = mount.get("Type", "mount")
        source = mount.get("Name") if kind == "volume" else mount.get("Source")
        out.append((str(source or ""), f"{kind} {source}->{mount.get('Destination')}"))
    return out


@dataclass(frozen=True)
class ContainerInfo:
    """What detection needs of one Docker container."""

    name: str
    status: str
    #: ``(host_port, "ip:port->container")`` of its published (or, stopped, configured) ports.
    ports: tuple[tuple[int, str], ...]
    #: True when the ports are bindings of a stopped container, taken on start.
    ports_when_started: bool
    #: ``(source, "kind source->destination")`` of each mount.
    mounts: tuple[tuple[str, str], ...]
    labels: Mapping[str, str]


def _info(container: Any) -> ContainerInfo:
    attrs = getattr(container, "attrs", {}) or {}
    published = _host_ports(getattr(container, "ports", None))
    configured = False
    if not published:  # a stopped container shows no ports; its bindings still clash on start
        published = _host_ports((attrs.get("HostConfig") or {}).get("PortBindings"))
        configured = bool(published)
    return ContainerInfo(
        name=str(container.name).lstrip("/"),
        status=str(getattr(container, "status", "unknown")),
        ports=tuple(published),
        ports_when_started=configured,
        mounts=tuple(_mounts(attrs)),
        labels=dict((attrs.get("Config") or {}).get("Labels") or {}),
    )


def list_containers(factory: DockerFactory = default_docker_factory) -> list[ContainerInfo] | str:
    """Every container of the Docker engine, or one line saying why there is none to ask."""
    try:
        client = factory()
        client.ping()
        containers = list(client.containers.list(all=True))
    except _docker_errors() as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        return f"no reachable Docker engine ({first})"
    return [_info(c) for c in containers]


def stack_ports(cfg: HiveConfig) -> dict[int, str]:
    """Every host port the stack publishes, with what it is for."""
    ports: dict[int, str] = {}
    for mode in cfg.mode_table:
        mode_ports = cfg.ports(mode)
        ports.setdefault(mode_ports.db, "the shared PostgreSQL (dbPort)")
        ports.setdefault(mode_ports.api, f"mode {mode.name}'s API")
    return ports


def detect_lines(
    cfg: HiveConfig,
    factory: DockerFactory = default_docker_factory,
    data_dir: DataDir | None = None,
) -> list[str]:
    """Describe legacy and clashing containers; one line if Docker is unreachable."""
    containers = list_containers(factory)
    if isinstance(containers, str):
        return [f"detect: {containers}; skipped container detection"]
    names = cfg.names
    stack_names = {names.postgres_container} | {names.api_container(m) for m in cfg.mode_table}
    ports = stack_ports(cfg)
    watched = stack_names | {
        name
        for m in MODES.values()
        for name in (LEGACY_NAMES.legacy_postgres_container(m), LEGACY_NAMES.api_container(m))
    }
    data_sources = {str(data_dir.mount), str(data_dir.pgdata)} if data_dir else set()
    lines: list[str] = []
    for container in containers:
        clashing_ports = [p for p, _ in container.ports if p in ports]
        if container.name in watched or clashing_ports:
            lines += _describe(container, clashing_ports, ports, container.name in stack_names, data_sources)
    return lines or ["detect: no legacy hive container and no container on the stack's ports"]


def _describe(
    container: ContainerInfo,
    clashing_ports: Sequence[int],
    ports: Mapping[int, str],
    stack_name: bool,
    data_sources: set[str],
) -> list[str]:
    name = container.name
    port_text = ", ".join(t for _, t in container.ports) or "none"
    if container.ports_when_started:
        port_text += " (when started)"
    lines = [f"detect: {name} [{container.status}] ports: {port_text}"]
    lines += [f"detect:   mount {text}" for _, text in container.mounts]
    if stack_name:
        lines.append(
            f"detect:   CLASH: the stack creates a container named {name}; remove or rename this one "
            "(unless this stack created it)"
        )
    for port in clashing_ports:
        lines.append(
            f"detect:   CLASH: host port {port} is also {ports[port]}; stop this container or change the stack's ports"
        )
    if data_sources and any(src in data_sources for src, _ in container.mounts):
        state = "is running on" if container.status == "running" else "uses"
        lines.append(f"detect:   {name} {state} the data directory being adopted: stop it before `pulumi up`")
    return lines
