"""The HiveStack component: every part of the install, wired together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from hive_infra.components import export_values
from hive_infra.components.api import ApiVolume, HiveApi, HiveApiArgs
from hive_infra.components.database import AdminConnection, HiveDatabase, HiveDatabaseArgs
from hive_infra.components.kubernetes.cluster import BuiltImage, HiveKubernetes, HiveKubernetesArgs, stack_label
from hive_infra.components.postgres import SharedPostgres, SharedPostgresArgs
from hive_infra.components.secrets import HiveSecrets, HiveSecretsArgs
from hive_infra.config import HiveConfig
from hive_infra.core import api_image, rendering
from hive_infra.core.modes import Mode
from hive_infra.core.names import (
    APP_DATA_MOUNT,
    APP_LOGS_MOUNT,
    MAINTENANCE_DATABASES,
    POSTGRES_CONTAINER_PORT,
    STACK_LABEL,
    local_host_for,
    stack_label_value,
)
from hive_infra.core.outputs import OUTPUTS
from hive_infra.core.placement import every_database, role_search_path
from hive_infra.machine.project_image import StagedProject
from hive_infra.machine.user_env import UserEnv
from hive_infra.providers.backup import DataBackup, DataBackupArgs
from hive_infra.providers.envfile import EnvFile, EnvFileArgs
from hive_infra.providers.stack_layout import StackLayout, StackLayoutArgs

#: Each mode's .env entries, by mode name.
Entries = pulumi.Output[dict[str, rendering.EnvEntries]]


@dataclass(frozen=True)
class HiveStackArgs:
    config: HiveConfig
    project: str
    stack: str
    #: The user's own keys each API container gets (read by ``machine.user_env``); secret.
    user_env: UserEnv = field(default_factory=UserEnv, repr=False)
    #: ``machine.image_context.context_digest`` of the build context, when the stack builds the API image.
    api_image_digest: str | None = None
    #: Each mode's checked project folder (``machine.project_dir.project_dirs``); empty: the image's own.
    project_dirs: Mapping[str, str] = field(default_factory=dict)
    #: On Kubernetes, each mode's project staged for its image (``machine.project_image.stage_projects``).
    projects: Mapping[str, StagedProject] = field(default_factory=dict)
    #: The databases the stack's own server holds already (``pg.retained.server_databases``).
    databases_on_server: frozenset[str] = frozenset()


class HiveStack(pulumi.ComponentResource):
    """Builds the secrets, the shared PostgreSQL, the database objects, the API
    containers and the .env files, and owns the shapes of the export_values."""

    #: {mode, isolation, container, host, port, database, user, sslmode}
    postgres: pulumi.Output[dict[str, Any]]
    #: {mode: {db, api}}
    ports: dict[str, dict[str, int]]
    #: {mode: schema}
    schemas: dict[str, str]
    #: {mode: database}
    databases: dict[str, str]
    #: {mode: http://host:port}
    api_urls: dict[str, str]
    #: {mode: .env path}
    env_file_paths: dict[str, str]
    #: The record of the layout every other resource waits for.
    layout: StackLayout
    #: {mode: url}, secret
    database_urls: pulumi.Output[dict[str, str]]
    #: {mode: key}, secret
    api_keys: pulumi.Output[dict[str, str]]
    #: {mode: {path, content}}, secret
    env_files: pulumi.Output[dict[str, dict[str, str]]]
    api: dict[str, HiveApi]
    #: platform=kubernetes: the API tier on the cluster (else None), and its namespace's name.
    kubernetes: HiveKubernetes | None
    namespace: pulumi.Output[str] | None
    #: {mode: EnvFile}: the written .env files
    env_file_resources: dict[str, EnvFile]
    #: Depends on every resource but the guard, so that a destroy deletes it before any of
    #: them: its delete dumps every mode's database first (``backupOnDestroy``).
    backup: DataBackup
    #: Depends on every other resource, so that a destroy deletes it first; protected
    #: with ``protectData``, it makes that destroy fail before anything is deleted.
    data_guard: random.RandomId

    def __init__(self, name: str, args: HiveStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:HiveStack", name, None, opts)
        self._name = name
        self._cfg = cfg = args.config
        self._labels = ((STACK_LABEL, stack_label_value(args.project, args.stack)),)
        self._header = rendering.env_header(args.project, args.stack)

        # First, and waited for by everything else: refuses an unannounced change of layout.
        self.layout = StackLayout(
            f"{name}-layout",
            StackLayoutArgs(
                cfg.isolation,
                export_values.databases(cfg.placements),
                cfg.allow_isolation_change,
                data=cfg.data_location,
                drops_data=cfg.drop_schemas_on_destroy,
                volumes={m.name: (cfg.names.api_logs_volume(m), cfg.names.api_data_volume(m)) for m in cfg.mode_table}
                if cfg.api_containers and not cfg.kubernetes
                else {},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # A server the stack does not create has its admin password already: never generated.
        supplied = HiveSecretsArgs(
            cfg.admin_password, cfg.db_password, cfg.api_key_base, generate_admin=not cfg.external
        )
        self._secrets = HiveSecrets(f"{name}-secrets", supplied, opts=self._child())
        server = None if cfg.external else self._build_server()
        # Where this machine (the provider, the .env files) reaches PostgreSQL.
        self._db_host = (cfg.postgres_host or "") if cfg.external else local_host_for(cfg.bind_address)
        database = self._build_database(server, args.databases_on_server)
        host_entries = self._entries(self._db_host, None)

        self.env_file_resources = {m.name: self._build_env_file(m, host_entries) for m in cfg.mode_table}
        self._args = args
        guarded: list[pulumi.Resource] = [self.layout, self._secrets, database, *self.env_file_resources.values()]
        guarded += [*self._build_api(server, database, host_entries), *(() if server is None else (server,))]
        self.backup = self._build_backup(args.stack, server, guarded)
        self.data_guard = self._build_data_guard([*guarded, self.backup])

        self.ports = export_values.ports(cfg)
        self.schemas = export_values.schemas(cfg.mode_table)
        self.databases = export_values.databases(cfg.placements)
        self.api_urls = export_values.api_urls(cfg)
        self.env_file_paths = export_values.env_file_paths(cfg)
        container: pulumi.Input[str | None] = server.container_name if server is not None else None
        self.postgres = pulumi.Output.from_input(container).apply(
            lambda name: export_values.postgres_summary(cfg, self._db_host, name)
        )
        self.database_urls = pulumi.Output.secret(
            host_entries.apply(lambda e: export_values.entry_of(e, "HIVE_DATABASE_URL"))
        )
        self.api_keys = pulumi.Output.secret(host_entries.apply(lambda e: export_values.entry_of(e, "HIVE_API_KEY")))
        self.env_files = pulumi.Output.secret(
            host_entries.apply(lambda e: export_values.env_files(cfg.mode_table, e, cfg.env_dir, self._header))
        )
        self.register_outputs(
            {o.attribute: getattr(self, o.attribute) for o in OUTPUTS if o.platform in (None, cfg.platform)}
        )

    def _build_data_guard(self, guarded: list[pulumi.Resource]) -> random.RandomId:
        """``protectData`` for the whole stack, not only the volumes.

        A protected resource only stops its own delete, and a destroy deletes
        dependents first: seen under the real engine, a destroy with protected
        volumes deleted the containers, the .env lines and the generated admin
        password (which the kept data still requires) before it reached them.
        This resource depends on every other one, so a destroy must delete it
        first; protected, the destroy fails with nothing deleted. It holds no
        value of use and is always declared, so that turning protectData off
        (an ``up``) unprotects it before a destroy removes it.
        """
        return random.RandomId(
            f"{self._name}-protect-data",
            byte_length=4,
            opts=pulumi.ResourceOptions(parent=self, depends_on=guarded, protect=self._cfg.protect_data),
        )

    def _build_backup(self, stack: str, server: SharedPostgres | None, guarded: list[pulumi.Resource]) -> DataBackup:
        """The dump a destroy takes before it deletes the data (``hive_infra.providers.backup``).

        It logs in as the application role from this machine, like ``db dump``,
        and runs the server's own pg_dump in the stack's container.
        """
        cfg = self._cfg
        return DataBackup(
            f"{self._name}-backup",
            DataBackupArgs(
                enabled=cfg.backup_before_delete,
                folder=cfg.backup_dir,
                container=server.container_name if server is not None else None,
                host=self._db_host,
                port=cfg.db_port,
                user=cfg.db_user,
                password=self._secrets.db_password,
                sslmode=cfg.effective_ssl_mode if cfg.external else None,
                databases=every_database(cfg.database, cfg.isolation),
                isolation=cfg.isolation,
                stack=stack,
                env_files=[rendering.env_file_path(cfg.env_dir, m) for m in cfg.mode_table],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=guarded),
        )

    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=[self.layout])

    def _build_server(self) -> SharedPostgres:
        cfg = self._cfg
        return SharedPostgres(
            f"{self._name}-postgres",
            SharedPostgresArgs(
                image=cfg.postgres_image,
                names=cfg.names,
                bind_address=cfg.bind_address,
                host_port=cfg.db_port,
                admin_user=cfg.admin_user,
                admin_password=self._secrets.admin_password,
                labels=self._labels,
                data_path=cfg.data_path,
                protect_data=cfg.protect_data,
            ),
            opts=self._child(),
        )

    def _build_database(self, server: SharedPostgres | None, on_server: frozenset[str]) -> HiveDatabase:
        cfg = self._cfg
        return HiveDatabase(
            f"{self._name}-database",
            HiveDatabaseArgs(
                admin=AdminConnection(
                    host=self._db_host,
                    port=cfg.db_port,
                    user=cfg.admin_user,
                    password=self._secrets.admin_password,
                    sslmode=cfg.effective_ssl_mode,
                    superuser=not cfg.external,
                ),
                user=cfg.db_user,
                password=self._secrets.db_password,
                databases=cfg.database_plans(),
                extensions=cfg.extensions,
                role_search_path=role_search_path(cfg.isolation),
                manage_role=cfg.manages_role_and_database,
                server=server.container if server is not None else None,
                deleted_with=server.volume if server is not None else None,
                drop_on_destroy=cfg.drop_schemas_on_destroy,
                # The stack's own server: the app role need not reach the maintenance databases.
                closed_databases=() if cfg.external else MAINTENANCE_DATABASES,
                on_server=on_server,
            ),
            opts=self._child(),
        )

    def _entries(self, host: str, port: int | None) -> Entries:
        """Each mode's .env entries, for a consumer reaching PostgreSQL at
        ``host:port`` (``port`` None: the published port)."""
        cfg = self._cfg
        url_sslmode = rendering.url_sslmode(cfg.postgres_mode, cfg.effective_ssl_mode)

        def render(values: list[Any]) -> dict[str, rendering.EnvEntries]:
            password, key_base = values
            endpoint = rendering.DbEndpoint(
                host=host,
                port=cfg.db_port if port is None else port,
                user=cfg.db_user,
                password=password,
                sslmode=url_sslmode,
            )
            return {
                p.mode.name: rendering.env_entries(p, cfg.ports(p.mode), endpoint, key_base) for p in cfg.placements
            }

        secrets = self._secrets
        return pulumi.Output.secret(pulumi.Output.all(secrets.db_password, secrets.api_key_base).apply(render))

    def _build_env_file(self, mode: Mode, entries: Entries) -> EnvFile:
        """The file the application reads, merged into whatever the user keeps there."""
        mine = entries.apply(lambda e: e[mode.name])
        return EnvFile(
            f"{self._name}-envfile-{mode.name}",
            EnvFileArgs(
                path=rendering.env_file_path(self._cfg.env_dir, mode),
                owned=mine.apply(lambda e: list(e.owned)),
                defaults=mine.apply(lambda e: list(e.defaults)),
                header=self._header,
            ),
            opts=self._child(),
        )

    def _api_image(self) -> docker.RemoteImage:
        """The image the API containers run: ``apiImage`` as it is (pulled when missing), or the one
        built here from ``hive_infra/image``, whose tag changes with what it is built from."""
        cfg = self._cfg
        name = f"{self._name}-api-image"
        if cfg.api_image is not None:
            return docker.RemoteImage(name, name=cfg.api_image, keep_locally=True, opts=self._child())
        digest = self._args.api_image_digest
        if digest is None:
            raise ValueError("HiveStackArgs.api_image_digest is required when the stack builds the API image")
        build = api_image.image_build(cfg.api_version, cfg.api_base_image, digest)
        return docker.RemoteImage(
            name,
            name=build.tag,
            build=docker.RemoteImageBuildArgs(
                context=build.context,
                build_args=dict(build.build_args),
                label={"org.automagik-hive.image": build.tag},
            ),
            # Kept by a destroy: another stack on this machine may run the same build.
            keep_locally=True,
            opts=self._child(),
        )

    def _build_api(
        self, server: SharedPostgres | None, database: HiveDatabase, host_entries: Entries
    ) -> list[pulumi.Resource]:
        """The API: a container per mode here, or the tier on the cluster (platform=kubernetes)."""
        cfg = self._cfg
        self.kubernetes = self._build_kubernetes(database, host_entries) if cfg.kubernetes else None
        self.namespace = None if self.kubernetes is None else self.kubernetes.namespace_name
        docker_api = cfg.api_containers and not cfg.kubernetes
        self.api = self._build_api_containers(server, database, host_entries) if docker_api else {}
        return [*self.api.values(), *(() if self.kubernetes is None else (self.kubernetes,))]

    def _build_kubernetes(self, database: HiveDatabase, host_entries: Entries) -> HiveKubernetes:
        """platform=kubernetes: each mode's pods reach the managed server where this machine does."""
        cfg, projects = self._cfg, self._args.projects
        # The app image on this machine: built, or apiImage pulled for the project layers to go on.
        image = self._api_image() if cfg.builds_api_image or projects else None
        local = None if image is None else BuiltImage(cfg.api_image or self._build_tag(), image.image_id)
        user_env = self._args.user_env
        return HiveKubernetes(
            f"{self._name}-kubernetes",
            HiveKubernetesArgs(
                config=cfg,
                stack_label=stack_label(self._args.project, self._args.stack),
                # Inside the secret entries' apply: the user's values travel only in this secret list.
                env=lambda mode: host_entries.apply(
                    lambda e: rendering.container_env(e[mode.name], user_env.of(mode.name))
                ),
                built=local if cfg.builds_api_image else None,
                projects=projects,
                pulled=None if cfg.builds_api_image else local,
                registry_password=None
                if cfg.image_registry_password is None
                else pulumi.Output.secret(cfg.image_registry_password),
                depends_on=database.resources,
            ),
            opts=self._child(),
        )

    def _build_tag(self) -> str:
        """The tag of the image built here (``hive-infra/hive-api:<version>-<digest>``)."""
        cfg, digest = self._cfg, self._args.api_image_digest
        if digest is None:
            raise ValueError("HiveStackArgs.api_image_digest is required when the stack builds the API image")
        return api_image.image_build(cfg.api_version, cfg.api_base_image, digest).tag

    def _build_api_containers(
        self, server: SharedPostgres | None, database: HiveDatabase, host_entries: Entries
    ) -> dict[str, HiveApi]:
        cfg = self._cfg
        if server is None:
            # A server elsewhere: the containers connect where the host does.
            entries, network_name = host_entries, None
        else:
            # Inside the shared network the API reaches PostgreSQL by container name.
            entries = self._entries(cfg.names.postgres_container, POSTGRES_CONTAINER_PORT)
            network_name = server.network_name
        image = self._api_image()
        project_dirs = self._args.project_dirs

        def container(mode: Mode) -> HiveApi:
            return HiveApi(
                f"{self._name}-api-{mode.name}",
                HiveApiArgs(
                    container_name=cfg.names.api_container(mode),
                    image=image.image_id,
                    network_name=network_name,
                    bind_address=cfg.bind_address,
                    port=cfg.ports(mode).api,
                    # Inside the secret entries' apply: the user's values travel only in this secret list.
                    env=entries.apply(
                        lambda e: rendering.container_env(e[mode.name], self._args.user_env.of(mode.name))
                    ),
                    health_path=cfg.health_path,
                    project_dir=project_dirs.get(mode.name),
                    health_timeout=cfg.api_health_timeout,
                    volumes=(
                        ApiVolume("logs", cfg.names.api_logs_volume(mode), APP_LOGS_MOUNT),
                        ApiVolume("data", cfg.names.api_data_volume(mode), APP_DATA_MOUNT),
                    ),
                    protect_data=cfg.protect_data,
                    labels=self._labels,
                    depends_on=database.resources,
                ),
                opts=self._child(),
            )

        return {mode.name: container(mode) for mode in cfg.mode_table}
