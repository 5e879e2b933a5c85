"""Component: the API container of one hive mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

HEALTH_PATH = "/api/v1/health"


@dataclass(frozen=True)
class HiveApiArgs:
    container_name: str
    #: Image id (from a ``RemoteImage``) the container runs.
    image: pulumi.Input[str]
    #: The shared network with the postgres container; None for a server elsewhere.
    network_name: pulumi.Input[str] | None
    bind_address: str
    port: int
    #: ``KEY=value`` strings (secret: they hold the database URL and API key).
    env: pulumi.Input[Sequence[str]] = field(repr=False)
    labels: tuple[tuple[str, str], ...] = ()
    #: Resources the app needs before it starts (the database objects).
    depends_on: Sequence[pulumi.Resource] = ()


def health_command(port: int) -> list[str]:
    return ["CMD", "curl", "-f", f"http://localhost:{port}{HEALTH_PATH}"]


class HiveApi(pulumi.ComponentResource):
    """One mode's API, publishing its port on the bind address and reaching
    PostgreSQL over the shared network by the postgres container's name."""

    container: docker.Container
    container_name: pulumi.Output[str]

    def __init__(self, name: str, args: HiveApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:HiveApi", name, None, opts)
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
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=health_command(args.port),
                interval="30s",
                timeout="10s",
                retries=3,
                start_period="30s",
            ),
            restart="unless-stopped",
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in args.labels],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                # The name is fixed, so a replacement must remove the old one first.
                delete_before_replace=True,
            ),
        )
        self.container_name = self.container.name
        self.register_outputs({"container_name": self.container_name})
