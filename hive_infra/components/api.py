"""Component: the API container of one hive mode, with its logs and data volumes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from hive_infra.machine.project_dir import PROJECT_MOUNT
from hive_infra.providers.api_health import ApiHealth, ApiHealthArgs

#: The healthcheck's probe, run by the image's own Python (a python:3.11-slim base
#: has no curl or wget, nor had the 0.x image) with ``-I -S`` and nothing but
#: ``socket``: one HTTP/1.0 GET, exit 0 on a 2xx/3xx status line, 1 on any other
#: answer, a refused connection or a timeout (an exception exits 1). Docker runs
#: it every few seconds in every API container, so it is kept cheap: ``urllib``
#: cost more (docs/operations.md: What the API containers get).
#: The URL (``http://host:port/path``) comes as ``sys.argv[1]``.
HEALTH_PROBE = """import socket, sys
hostport, _, path = sys.argv[1].removeprefix("http://").partition("/")
host, _, port = hostport.partition(":")
conn = socket.create_connection((host, int(port)), timeout=5)
conn.sendall(f"GET /{path} HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n".encode())
status = conn.recv(64).split(b" ", 2)
sys.exit(0 if len(status) > 1 and status[1][:1] in (b"2", b"3") else 1)"""


def go_duration(seconds: int) -> str:
    """``seconds`` as Go's ``time.Duration.String()`` writes it (``5s``, ``2m0s``,
    ``1h0m0s``): the docker provider stores healthcheck durations in that form, so
    any other spelling (``120s``) is a difference on every ``up`` (seen under the
    real engine)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


#: The healthcheck's cadence: Docker 20.10 has no start interval, so the interval itself is
#: short, traded against the CPU a probe costs at rest
#: (measured: docs/operations.md: What the API containers get). Failures in the start period do not
#: count: a slow first start is not "unhealthy".
HEALTH_INTERVAL = go_duration(5)
HEALTH_TIMEOUT = go_duration(5)
HEALTH_START_PERIOD = go_duration(120)


@dataclass(frozen=True)
class ApiVolume:
    """A named Docker volume mounted into the container."""

    #: Short word naming the resource (``<component>-<key>``): ``logs``, ``data``.
    key: str
    #: The Docker volume's name.
    name: str
    container_path: str


@dataclass(frozen=True)
class HiveApiArgs:
    container_name: str
    #: Image id (from a ``RemoteImage``) the container runs.
    image: pulumi.Input[str]
    #: The shared network with the postgres container; None for a server elsewhere.
    network_name: pulumi.Input[str] | None
    bind_address: str
    port: int
    #: ``KEY=value`` strings (secret: they hold the database URL, the API key and the user's own keys).
    env: pulumi.Input[Sequence[str]] = field(repr=False)
    #: Seconds `up` waits for a new container to report healthy (``apiHealthTimeout``).
    health_timeout: int
    #: Path the healthcheck requests (``HiveConfig.health_path``).
    health_path: str
    #: The user's hive project, bind-mounted where ``hive serve`` runs; None: the image's own.
    project_dir: str | None = None
    #: The container's logs and data volumes, created with it.
    volumes: tuple[ApiVolume, ...] = ()
    #: Protect the volumes (``protectData``).
    protect_data: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    #: Resources the app needs before it starts (the database objects).
    depends_on: Sequence[pulumi.Resource] = ()


def health_command(port: int, path: str) -> list[str]:
    """The exec-form healthcheck: the image's ``python3`` asks the API on its own port."""
    return ["CMD", "python3", "-I", "-S", "-c", HEALTH_PROBE, f"http://127.0.0.1:{port}{path}"]


class HiveApi(pulumi.ComponentResource):
    """One mode's API, publishing its port on the bind address and reaching
    PostgreSQL over the shared network by the postgres container's name."""

    container: docker.Container
    container_name: pulumi.Output[str]
    #: Created once the container is healthy.
    health: ApiHealth
    #: The volumes, in the order of ``HiveApiArgs.volumes``.
    volumes: list[docker.Volume]

    def __init__(self, name: str, args: HiveApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:HiveApi", name, None, opts)
        labels = list(args.labels)
        self.volumes = [
            docker.Volume(
                f"{name}-{volume.key}",
                name=volume.name,
                labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in labels],
                # A fixed name cannot exist twice during a replace; the data outlives containers, and
                # the mode: kept when the mode is removed (or the stack destroyed), found again when it
                # comes back (Docker's create of an existing volume returns it).
                opts=pulumi.ResourceOptions(
                    parent=self, delete_before_replace=True, protect=args.protect_data, retain_on_delete=True
                ),
            )
            for volume in args.volumes
        ]
        self.container = docker.Container(
            f"{name}-container",
            name=args.container_name,
            image=args.image,
            envs=pulumi.Output.secret(args.env),
            ports=[docker.ContainerPortArgs(internal=args.port, external=args.port, ip=args.bind_address)],
            networks_advanced=(
                [docker.ContainerNetworksAdvancedArgs(name=args.network_name)]
                if args.network_name is not None
                else None
            ),
            volumes=_mounts(args, self.volumes) or None,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=health_command(args.port, args.health_path),
                interval=HEALTH_INTERVAL,
                timeout=HEALTH_TIMEOUT,
                retries=3,
                start_period=HEALTH_START_PERIOD,
            ),
            # Waited for by the health resource below, which fails as soon as the app will not start.
            wait=False,
            restart="unless-stopped",
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                # The name is fixed, so a replacement must remove the old one first.
                delete_before_replace=True,
                # Docker cannot change a container's healthcheck: seen under the real engine, the
                # provider's in-place "update" changed the state and left the old probe running.
                replace_on_changes=["healthcheck"],
            ),
        )
        self.container_name = self.container.name
        # `up` returns once the API answers, and fails naming `docker logs <name>` on one that will not.
        self.health = ApiHealth(
            f"{name}-health",
            ApiHealthArgs(self.container.name, self.container.id, args.health_timeout),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"container_name": self.container_name})


def _mounts(args: HiveApiArgs, volumes: Sequence[docker.Volume]) -> list[docker.ContainerVolumeArgs]:
    """The project folder (when given) at ``PROJECT_MOUNT``, then each volume at its path."""
    project = (
        [docker.ContainerVolumeArgs(host_path=args.project_dir, container_path=PROJECT_MOUNT)]
        if args.project_dir is not None
        else []
    )
    return project + [
        docker.ContainerVolumeArgs(volume_name=created.name, container_path=volume.container_path)
        for created, volume in zip(volumes, args.volumes, strict=True)
    ]
