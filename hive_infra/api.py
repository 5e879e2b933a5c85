"""Component: the API container of one hive mode, with its logs and data volumes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

#: The healthcheck's probe, run by the image's own Python: the application's
#: image (python:3.12-slim) has no curl or wget. ``urlopen`` raises on a refused
#: connection, a timeout and any 4xx/5xx answer, so the exit code is 1 unless
#: the API answers 2xx/3xx. The URL comes as ``sys.argv[1]``.
HEALTH_PROBE = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)"


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
    #: Path the healthcheck requests (``apiHealthPath``).
    health_path: str = "/api/v1/health"
    #: The container's logs and data volumes, created with it.
    volumes: tuple[ApiVolume, ...] = ()
    #: Protect the volumes (``protectData``).
    protect_data: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    #: Resources the app needs before it starts (the database objects).
    depends_on: Sequence[pulumi.Resource] = ()


def health_command(port: int, path: str) -> list[str]:
    """The exec-form healthcheck: the image's ``python3`` asks the API on its own port."""
    return ["CMD", "python3", "-c", HEALTH_PROBE, f"http://127.0.0.1:{port}{path}"]


class HiveApi(pulumi.ComponentResource):
    """One mode's API, publishing its port on the bind address and reaching
    PostgreSQL over the shared network by the postgres container's name."""

    container: docker.Container
    container_name: pulumi.Output[str]
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
                # A fixed name cannot exist twice during a replace; the data outlives containers.
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, protect=args.protect_data),
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
            volumes=[
                docker.ContainerVolumeArgs(volume_name=created.name, container_path=volume.container_path)
                for created, volume in zip(self.volumes, args.volumes, strict=True)
            ]
            or None,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=health_command(args.port, args.health_path),
                interval="30s",
                timeout="10s",
                retries=3,
                start_period="30s",
            ),
            restart="unless-stopped",
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                # The name is fixed, so a replacement must remove the old one first.
                delete_before_replace=True,
            ),
        )
        self.container_name = self.container.name
        self.register_outputs({"container_name": self.container_name})
