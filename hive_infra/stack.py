"""The HiveStack component: every part of the install, wired together."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pulumi
import pulumi_docker as docker

from hive_infra import rendering
from hive_infra.api import HiveApi, HiveApiArgs
from hive_infra.config import HiveConfig
from hive_infra.database import HiveDatabase, HiveDatabaseArgs
from hive_infra.envfile import EnvFile, EnvFileArgs
from hive_infra.layout import POSTGRES_CONTAINER_PORT, STACK_LABEL, local_host_for
from hive_infra.modes import Mode
from hive_infra.postgres import SharedPostgres, SharedPostgresArgs
from hive_infra.secrets import HiveSecrets, HiveSecretsArgs


@dataclass(frozen=True)
class HiveStackArgs:
    config: HiveConfig
    project: str
    stack: str


class HiveStack(pulumi.ComponentResource):
    """Builds the secrets, the shared PostgreSQL, the database objects, the API
    containers and the .env contents, and owns the shapes of the exports."""

    #: {container, host, port, database, user}
    postgres: pulumi.Output[dict[str, Any]]
    #: {mode: {db, api}}
    ports: dict[str, dict[str, int]]
    #: {mode: schema}
    schemas: dict[str, str]
    #: {mode: url}, secret
    database_urls: pulumi.Output[dict[str, str]]
    #: {mode: key}, secret
    api_keys: pulumi.Output[dict[str, str]]
    #: {mode: {path, content}}, secret
    env_files: pulumi.Output[dict[str, dict[str, str]]]
    api: dict[str, HiveApi]
    #: {mode: EnvFile}: the written .env files
    env_file_resources: dict[str, EnvFile]

    def __init__(self, name: str, args: HiveStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:HiveStack", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        labels = ((STACK_LABEL, f"{args.project}/{args.stack}"),)
        modes = cfg.mode_table

        secrets = HiveSecrets(
            f"{name}-secrets",
            HiveSecretsArgs(
                admin_password=cfg.admin_password,
                db_password=cfg.db_password,
                api_key_base=cfg.api_key_base,
                # A server the stack does not create has its admin password already.
                generate_admin=not cfg.external,
            ),
            opts=child,
        )
        server: SharedPostgres | None = None
        if cfg.external:
            assert cfg.postgres_host is not None  # validated by config
            db_host = cfg.postgres_host
            url_sslmode: str | None = cfg.effective_ssl_mode
        else:
            server = SharedPostgres(
                f"{name}-postgres",
                SharedPostgresArgs(
                    image=cfg.postgres_image,
                    container_name=cfg.names.postgres_container,
                    network_name=f"{cfg.name_prefix}-network",
                    volume_name=f"{cfg.name_prefix}-postgres-data",
                    bind_address=cfg.bind_address,
                    host_port=cfg.db_port,
                    admin_user=cfg.admin_user,
                    admin_password=secrets.admin_password,
                    labels=labels,
                    data_path=cfg.data_path,
                    protect_data=cfg.protect_data,
                ),
                opts=child,
            )
            db_host = local_host_for(cfg.bind_address)
            url_sslmode = None  # the legacy URLs, unchanged
        database = HiveDatabase(
            f"{name}-database",
            HiveDatabaseArgs(
                host=db_host,
                port=cfg.db_port,
                admin_user=cfg.admin_user,
                admin_password=secrets.admin_password,
                sslmode=cfg.effective_ssl_mode,
                database=cfg.database,
                user=cfg.db_user,
                password=secrets.db_password,
                schemas=cfg.own_schemas(),
                extensions=cfg.extensions,
                server=server.container if server is not None else None,
                deleted_with_server=server is not None,
                drop_schemas_on_destroy=cfg.drop_schemas_on_destroy,
                admin_is_superuser=not cfg.external,
                manage_role_and_database=cfg.manages_role_and_database,
            ),
            opts=child,
        )

        def entries_for(host: str, port: int | None) -> pulumi.Output[dict[str, rendering.EnvEntries]]:
            """Each mode's .env entries, for a consumer reaching PostgreSQL at host:port."""

            def render(values: list[Any]) -> dict[str, rendering.EnvEntries]:
                password, key_base = values
                result = {}
                for mode in modes:
                    ports = cfg.ports(mode)
                    endpoint = rendering.DbEndpoint(
                        host=host,
                        port=ports.db if port is None else port,
                        database=cfg.database,
                        user=cfg.db_user,
                        password=password,
                        sslmode=url_sslmode,
                    )
                    result[mode.name] = rendering.env_entries(mode, ports, endpoint, key_base)
                return result

            return pulumi.Output.secret(pulumi.Output.all(secrets.db_password, secrets.api_key_base).apply(render))

        host_entries = entries_for(db_host, None)
        header = rendering.env_header(args.project, args.stack)

        self.ports = {m.name: asdict(cfg.ports(m)) for m in modes}
        self.schemas = {m.name: m.schema for m in modes}
        container_name: pulumi.Input[str | None] = server.container_name if server is not None else None
        self.postgres = pulumi.Output.all(container_name).apply(
            lambda values: {
                "mode": cfg.postgres_mode,
                "container": values[0],
                "host": db_host,
                "port": cfg.db_port,
                "database": cfg.database,
                "user": cfg.db_user,
            }
        )
        self.database_urls = pulumi.Output.secret(
            host_entries.apply(lambda e: {m: entries.as_dict()["HIVE_DATABASE_URL"] for m, entries in e.items()})
        )
        self.api_keys = pulumi.Output.secret(
            host_entries.apply(lambda e: {m: entries.as_dict()["HIVE_API_KEY"] for m, entries in e.items()})
        )
        self.env_files = pulumi.Output.secret(
            host_entries.apply(
                lambda e: {
                    m.name: {
                        "path": rendering.env_file_path(cfg.env_dir, m),
                        "content": rendering.env_text(e[m.name], header),
                    }
                    for m in modes
                }
            )
        )

        # The files the application reads, merged into whatever the user keeps there.
        def env_file(mode: Mode) -> EnvFile:
            entries = host_entries.apply(lambda e: e[mode.name])
            return EnvFile(
                f"{name}-envfile-{mode.name}",
                EnvFileArgs(
                    path=rendering.env_file_path(cfg.env_dir, mode),
                    owned=entries.apply(lambda e: list(e.owned)),
                    defaults=entries.apply(lambda e: list(e.defaults)),
                    header=header,
                ),
                opts=child,
            )

        self.env_file_resources = {mode.name: env_file(mode) for mode in modes}

        self.api = {}
        if cfg.api_containers:
            if server is None:
                # A server elsewhere: the containers connect where the host does.
                network_entries, network_name = host_entries, None
            else:
                # Inside the shared network the API reaches PostgreSQL by container name.
                network_entries = entries_for(cfg.names.postgres_container, POSTGRES_CONTAINER_PORT)
                network_name = server.network_name
            self.api = self._api_containers(name, cfg, modes, network_entries, network_name, database, labels)

        self.register_outputs(
            {
                "postgres": self.postgres,
                "ports": self.ports,
                "schemas": self.schemas,
                "database_urls": self.database_urls,
                "api_keys": self.api_keys,
                "env_files": self.env_files,
            }
        )

    def _api_containers(
        self,
        name: str,
        cfg: HiveConfig,
        modes: tuple[Mode, ...],
        network_entries: pulumi.Output[dict[str, rendering.EnvEntries]],
        network_name: pulumi.Input[str] | None,
        database: HiveDatabase,
        labels: tuple[tuple[str, str], ...],
    ) -> dict[str, HiveApi]:
        image = docker.RemoteImage(
            f"{name}-api-image",
            name=cfg.api_image,
            keep_locally=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

        def env_of(mode: Mode) -> pulumi.Output[list[str]]:
            return network_entries.apply(lambda e: rendering.container_env(e[mode.name]))

        return {
            mode.name: HiveApi(
                f"{name}-api-{mode.name}",
                HiveApiArgs(
                    mode=mode.name,
                    container_name=cfg.names.api_container(mode),
                    image=image.image_id,
                    network_name=network_name,
                    bind_address=cfg.bind_address,
                    port=cfg.ports(mode).api,
                    env=env_of(mode),
                    labels=labels,
                    depends_on=database.resources,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for mode in modes
        }
