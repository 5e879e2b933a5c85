"""Component: what lives inside PostgreSQL (role, databases, schemas, extensions, grants)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_postgresql as postgresql

from hive_infra.core.modes import EXTENSIONS_SCHEMA, PUBLIC_SCHEMA
from hive_infra.core.placement import DatabasePlan

CONNECT_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class AdminConnection:
    """Where the provider connects, and as which admin role."""

    host: str
    port: int
    user: str
    password: pulumi.Input[str] = field(repr=False)
    #: The libpq sslmode the provider connects with (hive:sslMode, or its default).
    sslmode: str
    #: False for managed servers (RDS, Cloud SQL) whose admin is not a true superuser.
    superuser: bool = True


@dataclass(frozen=True)
class HiveDatabaseArgs:
    admin: AdminConnection
    #: The application's login role, and its password.
    user: str
    password: pulumi.Input[str] = field(repr=False)
    #: The databases to put objects in (``placement.database_plans``).
    databases: tuple[DatabasePlan, ...] = ()
    extensions: tuple[str, ...] = ()
    #: The role's default search_path: what a URL without options gets.
    role_search_path: tuple[str, ...] = (PUBLIC_SCHEMA, EXTENSIONS_SCHEMA)
    #: False where the role exists already (``adoptDatabase``, or a legacy data
    #: folder whose superuser is the app's login): the stack then does not
    #: declare it (a declared role would be altered, e.g. stripped of superuser).
    manage_role: bool = True
    #: The server resource: in-database objects are created after it.
    server: pulumi.Resource | None = None
    #: What holds the server's data (the stack's data volume): the in-database objects go
    #: with it, so a destroy does not drop them one by one from a server that is going
    #: away. Never the container: a replaced container (a new image, a repair) would
    #: replace every object with it (docs/operations.md: Upgrading). None (an external
    #: server, a ``dataPath`` folder the stack keeps): each object is deleted on its own.
    deleted_with: pulumi.Resource | None = None
    #: Destroy drops the schemas with their tables, the databases and every
    #: other object (external mode's ``dropSchemasOnDestroy``). Otherwise
    #: nothing that holds data is ever dropped: a database or a mode schema the
    #: stack stops declaring (a mode removed, a name changed) stays on the server.
    drop_on_destroy: bool = False
    #: Databases no one but their owners and the admin may connect to: PUBLIC's
    #: CONNECT and TEMPORARY are revoked (the stack's own server: ``postgres``
    #: and ``template1``, which every role could otherwise log in to).
    closed_databases: tuple[str, ...] = ()
    #: Databases the server holds already (``pg.retained.server_databases``): a plan's database among
    #: them is taken over with Pulumi's ``import_`` (a mode added back finds its rows), not created.
    on_server: frozenset[str] = frozenset()


class HiveDatabase(pulumi.ComponentResource):
    """The app's login role, a database per plan (owned by the role), the
    modes' schemas and the extensions.

    Extensions live in each plan's extensions schema: ``public`` (never
    declared: a destroy would drop it), or an admin-owned ``extensions`` schema
    the role may use but not change.
    """

    provider: postgresql.Provider
    role: postgresql.Role | None
    #: {database name: Database}, for the databases the stack creates.
    databases: dict[str, postgresql.Database]
    schemas: dict[str, postgresql.Schema]
    extensions: dict[str, postgresql.Extension]
    #: Every in-database resource, for dependants to wait on.
    resources: list[pulumi.Resource]

    def __init__(self, name: str, args: HiveDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:HiveDatabase", name, None, opts)
        if any(PUBLIC_SCHEMA in plan.schemas for plan in args.databases):
            raise ValueError("the public schema is never declared as a resource")
        self._name, self._args = name, args
        self._server_deps: list[pulumi.Resource] = [args.server] if args.server is not None else []
        self.provider = self._build_provider()
        self.role = self._build_role()
        self._role_name: pulumi.Input[str] = self.role.name if self.role is not None else args.user
        self.databases, self.schemas, self.extensions = {}, {}, {}
        self.resources = [self.role] if self.role is not None else []
        for plan in args.databases:
            self._build_database(plan)
        for database in args.closed_databases:
            # privileges=[]: the provider revokes all of PUBLIC's and grants nothing.
            self.resources.append(
                postgresql.Grant(
                    f"{name}-close-{database}",
                    database=database,
                    role="public",
                    object_type="database",
                    privileges=[],
                    opts=self._in_db(),
                )
            )
        self.register_outputs({"databases": sorted(plan.name for plan in args.databases)})

    def _build_provider(self) -> postgresql.Provider:
        admin = self._args.admin
        return postgresql.Provider(
            f"{self._name}-provider",
            host=admin.host,
            port=admin.port,
            username=admin.user,
            password=pulumi.Output.secret(admin.password),
            sslmode=admin.sslmode,
            database="postgres",
            superuser=admin.superuser,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._server_deps),
        )

    def _in_db(self, *after: pulumi.Resource | None, holds_data: bool = False) -> pulumi.ResourceOptions:
        """Options of an in-database object, created after ``after`` (and the server).

        The order is explicit: a name passed as a plain string carries no
        dependency. Objects that hold data (databases, mode schemas) are never
        dropped but by a destroy that drops everything (extensions too: users'
        columns are of their types); on a server the stack
        does not delete, the other objects stay too (an extension in use, a
        role owning retained schemas cannot be dropped alone).
        """
        args = self._args
        deleted_with = args.deleted_with
        keep = not args.drop_on_destroy and (holds_data or deleted_with is None)
        return pulumi.ResourceOptions(
            parent=self,
            provider=self.provider,
            depends_on=[*self._server_deps, *(r for r in after if r is not None)],
            deleted_with=deleted_with,
            retain_on_delete=keep,
        )

    def _build_role(self) -> postgresql.Role | None:
        """The login role, unless it exists already."""
        args = self._args
        if not args.manage_role:
            return None
        return postgresql.Role(
            f"{self._name}-role",
            name=args.user,
            login=True,
            password=pulumi.Output.secret(args.password),
            superuser=False,
            create_database=False,
            create_role=False,
            inherit=True,
            search_paths=list(args.role_search_path),
            opts=self._in_db(),
        )

    def _build_database(self, plan: DatabasePlan) -> None:
        """One database (unless it exists) and everything the plan puts in it."""
        name, args, key = self._name, self._args, plan.key
        database: postgresql.Database | None = None
        if not plan.existing:
            database = postgresql.Database(
                f"{name}-database{key}",
                name=plan.name,
                owner=self._role_name,
                opts=pulumi.ResourceOptions.merge(
                    self._in_db(self.role, holds_data=True),
                    # A no-op for a database the state holds already under this id (Pulumi's import rule).
                    pulumi.ResourceOptions(import_=plan.name if plan.name in args.on_server else None),
                ),
            )
            self.databases[plan.name] = database
        # Objects inside take the name as a plain string, ordered after the database explicitly.
        inside: list[pulumi.Resource] = []
        ext_schema: pulumi.Resource | None = None
        if plan.declares_extensions_schema:
            ext_schema = postgresql.Schema(
                f"{name}-extensions-schema{key}",
                name=plan.extensions_schema,
                database=plan.name,
                owner=args.admin.user,
                opts=self._in_db(database),
            )
            usage = postgresql.Grant(
                f"{name}-extensions-usage{key}",
                database=plan.name,
                role=self._role_name,
                object_type="schema",
                schema=plan.extensions_schema,
                privileges=["USAGE"],
                opts=self._in_db(self.role, ext_schema),
            )
            inside += [ext_schema, usage]
        for ext in args.extensions:
            self.extensions[f"{ext}{key}"] = extension = postgresql.Extension(
                f"{name}-extension-{ext}{key}",
                name=ext,
                database=plan.name,
                schema=plan.extensions_schema,
                # The type of users' columns (a vector column): kept with the database it serves.
                # Seen under the real engine: dropping a mode tried DROP EXTENSION in its retained
                # database, which PostgreSQL refused while a column used the type, failing `up`.
                opts=self._in_db(database, ext_schema, holds_data=True),
            )
            inside.append(extension)
        for schema_name in plan.schemas:
            self.schemas[schema_name] = schema = postgresql.Schema(
                f"{name}-schema-{schema_name}",
                name=schema_name,
                database=plan.name,
                owner=self._role_name,
                drop_cascade=args.drop_on_destroy,
                opts=self._in_db(self.role, database, holds_data=True),
            )
            inside.append(schema)
        self.resources += [*(r for r in (database,) if r is not None), *inside]
