"""Component: what lives inside PostgreSQL (role, database, schemas, extensions, grants)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_postgresql as postgresql

from hive_infra.modes import EXTENSIONS_SCHEMA, PUBLIC_SCHEMA

CONNECT_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class HiveDatabaseArgs:
    #: Where the provider connects, as the admin (superuser) role.
    host: str
    port: int
    admin_user: str
    admin_password: pulumi.Input[str] = field(repr=False)
    sslmode: str = "disable"
    database: str = "hive"
    user: str = "hive"
    password: pulumi.Input[str] = field(default="", repr=False)
    #: Schemas owned by the app role, one per mode that does not use public.
    schemas: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    #: The server resource: in-database objects are ordered after it and,
    #: when ``deleted_with_server`` holds, not deleted one by one when it goes.
    server: pulumi.Resource | None = None
    deleted_with_server: bool = True
    #: Without ``deleted_with_server``: drop the schemas with their tables, and
    #: every other object, on destroy. Otherwise destroy leaves every
    #: in-database object in place (``retain_on_delete``), data included.
    drop_schemas_on_destroy: bool = False
    #: False for managed servers (RDS, Cloud SQL) whose admin is not a true superuser.
    admin_is_superuser: bool = True
    #: False where the role and the database exist already (``adoptDatabase``, or
    #: a legacy data folder whose superuser is the app's login): the stack then
    #: declares neither (CREATE DATABASE would fail, and a declared role would
    #: be altered, e.g. stripped of superuser).
    manage_role_and_database: bool = True


class HiveDatabase(pulumi.ComponentResource):
    """The app's login role, its database, a schema per mode and the extensions.

    The role owns the database (so it may use ``public`` on PostgreSQL 15) and
    its mode schemas; extensions live in the admin-owned ``extensions`` schema,
    which the role may use but not change. ``public`` is never declared: a
    destroy would drop it.
    """

    provider: postgresql.Provider
    role: postgresql.Role | None
    database: postgresql.Database | None
    schemas: dict[str, postgresql.Schema]
    extensions: dict[str, postgresql.Extension]
    #: Every in-database resource, for dependants to wait on.
    resources: list[pulumi.Resource]
    role_name: pulumi.Output[str]
    database_name: pulumi.Output[str]

    def __init__(self, name: str, args: HiveDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("hive:index:HiveDatabase", name, None, opts)
        if PUBLIC_SCHEMA in args.schemas:
            raise ValueError("the public schema is never declared as a resource")
        self._name, self._args = name, args
        self._server_deps: list[pulumi.Resource] = [args.server] if args.server is not None else []
        self.provider = self._build_provider()
        self.role, self.database = self._build_role_and_database()
        role_name: pulumi.Input[str] = self.role.name if self.role is not None else args.user
        database_name: pulumi.Input[str] = self.database.name if self.database is not None else args.database
        extensions_schema = postgresql.Schema(
            f"{name}-extensions-schema",
            name=EXTENSIONS_SCHEMA,
            database=database_name,
            owner=args.admin_user,
            opts=self._in_db(self.database),
        )
        usage = postgresql.Grant(
            f"{name}-extensions-usage",
            database=database_name,
            role=role_name,
            object_type="schema",
            schema=extensions_schema.name,
            privileges=["USAGE"],
            opts=self._in_db(self.role, extensions_schema),
        )
        self.extensions = {
            ext: postgresql.Extension(
                f"{name}-extension-{ext}",
                name=ext,
                database=database_name,
                schema=extensions_schema.name,
                opts=self._in_db(extensions_schema),
            )
            for ext in args.extensions
        }
        self.schemas = {
            schema: postgresql.Schema(
                f"{name}-schema-{schema}",
                name=schema,
                database=database_name,
                owner=role_name,
                drop_cascade=args.drop_schemas_on_destroy,
                opts=self._in_db(self.role, self.database),
            )
            for schema in args.schemas
        }
        self.resources = [
            *(r for r in (self.role, self.database) if r is not None),
            extensions_schema,
            usage,
            *self.extensions.values(),
            *self.schemas.values(),
        ]
        self.role_name = pulumi.Output.from_input(role_name)
        self.database_name = pulumi.Output.from_input(database_name)
        self.register_outputs({"role_name": self.role_name, "database_name": self.database_name})

    def _build_provider(self) -> postgresql.Provider:
        args = self._args
        return postgresql.Provider(
            f"{self._name}-provider",
            host=args.host,
            port=args.port,
            username=args.admin_user,
            password=pulumi.Output.secret(args.admin_password),
            sslmode=args.sslmode,
            database="postgres",
            superuser=args.admin_is_superuser,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._server_deps),
        )

    def _in_db(self, *after: pulumi.Resource | None) -> pulumi.ResourceOptions:
        """Options of an in-database object, created after ``after`` (and the server).

        The order is explicit: a name passed as a plain string carries no
        dependency. On a server the stack does not delete, destroy either leaves
        the objects (an extension in use, a role owning retained schemas cannot
        be dropped alone) or, when asked, drops them all with the schemas' tables.
        """
        args = self._args
        deleted_with = args.server if args.deleted_with_server else None
        return pulumi.ResourceOptions(
            parent=self,
            provider=self.provider,
            depends_on=[*self._server_deps, *(r for r in after if r is not None)],
            deleted_with=deleted_with,
            retain_on_delete=deleted_with is None and not args.drop_schemas_on_destroy,
        )

    def _build_role_and_database(self) -> tuple[postgresql.Role | None, postgresql.Database | None]:
        """The login role and the database it owns, unless both exist already."""
        args = self._args
        if not args.manage_role_and_database:
            return None, None
        role = postgresql.Role(
            f"{self._name}-role",
            name=args.user,
            login=True,
            password=pulumi.Output.secret(args.password),
            superuser=False,
            create_database=False,
            create_role=False,
            inherit=True,
            search_paths=[PUBLIC_SCHEMA, EXTENSIONS_SCHEMA],
            opts=self._in_db(),
        )
        database = postgresql.Database(
            f"{self._name}-database",
            name=args.database,
            owner=role.name,
            opts=self._in_db(role),
        )
        return role, database
