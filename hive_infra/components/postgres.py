"""Component: the shared PostgreSQL container with its image, network and data volume."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from hive_infra.core.names import DATA_MOUNT, PGDATA, POSTGRES_CONTAINER_PORT, STACK_LABEL, DockerNames
from hive_infra.providers.server_guard import ServerGuard, ServerGuardArgs

#: The legacy compose file's tuning flags.
TUNING = ("max_connections=200", "shared_buffers=256MB", "effective_cache_size=1GB")
#: How long `pulumi up` waits for the healthcheck on create (first init and a
#: cold image pull of pgvector can take a while on a small machine).
WAIT_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class SharedPostgresArgs:
    image: str
    #: The container's, network's and volume's names.
    names: DockerNames
    bind_address: str
    host_port: int
    admin_password: pulumi.Input[str] = field(repr=False)
    #: The superuser the data directory is initialised with.
    admin_user: str
    labels: tuple[tuple[str, str], ...] = ()
    #: Bind-mount this host directory instead of the named volume.
    data_path: str | None = None
    protect_data: bool = False


def postgres_command() -> list[str]:
    command = ["postgres"]
    for flag in TUNING:
        command += ["-c", flag]
    return command


class SharedPostgres(pulumi.ComponentResource):
    """One PostgreSQL container serving every mode, reachable on the host at
    ``bind_address:host_port`` and on the shared network by its name."""

    container: docker.Container
    #: Refuses a change the kept data cannot take (a new major, login or password) first.
    guard: ServerGuard
    network: docker.Network
    container_name: pulumi.Output[str]
    network_name: pulumi.Output[str]
    #: The Docker volume holding the data, or None when ``data_path`` is bound.
    volume: docker.Volume | None

    def __init__(self, name: str, args: SharedPostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:SharedPostgres", name, None, opts)
        self._name, self._args = name, args
        self.guard = ServerGuard(
            f"{name}-guard",
            ServerGuardArgs(
                container=args.names.postgres_container,
                image=args.image,
                admin_user=args.admin_user,
                admin_password=args.admin_password,
                port=args.host_port,
                bind_address=args.bind_address,
                label=dict(args.labels).get(STACK_LABEL, ""),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Named Docker objects cannot exist twice: replace by deleting first. Each waits for the guard.
        self._named = pulumi.ResourceOptions(parent=self, delete_before_replace=True, depends_on=[self.guard])
        image = docker.RemoteImage(
            f"{name}-image",
            name=args.image,
            # Other containers on the machine may use the same image.
            keep_locally=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.guard]),
        )
        self.network = docker.Network(
            f"{name}-network",
            name=args.names.network,
            labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in args.labels],
            opts=self._named,
        )
        self.volume, data = self._build_data()
        self.container = self._build_container(image, data)
        self.container_name = self.container.name
        self.network_name = self.network.name
        self.register_outputs({"container_name": self.container_name, "network_name": self.network_name})

    def _build_data(self) -> tuple[docker.Volume | None, docker.ContainerVolumeArgs]:
        """The data outlives containers: a named volume, or an existing host
        folder (e.g. a legacy ./data/postgres) bind-mounted in its place."""
        args = self._args
        if args.data_path is not None:
            return None, docker.ContainerVolumeArgs(host_path=args.data_path, container_path=DATA_MOUNT)
        volume = docker.Volume(
            f"{self._name}-data",
            name=args.names.postgres_volume,
            labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in args.labels],
            opts=pulumi.ResourceOptions.merge(self._named, pulumi.ResourceOptions(protect=args.protect_data)),
        )
        return volume, docker.ContainerVolumeArgs(volume_name=volume.name, container_path=DATA_MOUNT)

    def _build_container(self, image: docker.RemoteImage, data: docker.ContainerVolumeArgs) -> docker.Container:
        args = self._args
        envs: pulumi.Output[list[str]] = pulumi.Output.secret(
            pulumi.Output.from_input(args.admin_password).apply(
                lambda password: [
                    f"POSTGRES_USER={args.admin_user}",
                    f"POSTGRES_PASSWORD={password}",
                    f"PGDATA={PGDATA}",
                ]
            )
        )
        container_name = args.names.postgres_container
        return docker.Container(
            f"{self._name}-container",
            name=container_name,
            image=image.image_id,
            envs=envs,
            command=postgres_command(),
            ports=[
                docker.ContainerPortArgs(
                    internal=POSTGRES_CONTAINER_PORT, external=args.host_port, ip=args.bind_address
                ),
            ],
            volumes=[data],
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[container_name]),
            ],
            healthcheck=docker.ContainerHealthcheckArgs(
                # -h 127.0.0.1: during first init the server listens on the socket only.
                tests=["CMD", "pg_isready", "-h", "127.0.0.1", "-U", args.admin_user],
                interval="5s",
                timeout="5s",
                retries=12,
                start_period="30s",
            ),
            wait=True,
            wait_timeout=WAIT_TIMEOUT_SECONDS,
            restart="unless-stopped",
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in args.labels],
            # Docker cannot change a container's healthcheck in place (the provider's update would
            # change only the state): a new one means a new container, on the same data.
            opts=pulumi.ResourceOptions.merge(self._named, pulumi.ResourceOptions(replace_on_changes=["healthcheck"])),
        )
