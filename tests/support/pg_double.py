"""A test double for the pulumi-postgresql provider, backed by a real server.

``PgDouble`` is a ``pulumi.runtime.Mocks``: for the ``postgresql:index/*``
resources it stands in for the provider's *create*, issuing the SQL that
terraform-provider-postgresql (which pulumi-postgresql wraps) issues, quoted
the same way, against the throwaway server, connected as that server's
superuser (whatever host, port and credentials the program gave its
``postgresql.Provider``; those are only recorded). Everything else (Docker,
components, ...) stays a plain mock; a ``RandomPassword`` gets a real
alphanumeric ``result`` of the requested length.

Engine emulation, so that running a program twice changes nothing:

* ``state`` remembers every resource by (type, name). A second registration
  with the same inputs is a no-op that answers the stored outputs, as the
  engine does for a resource already in its state with no diff; changed inputs
  raise ``UpdateNotEmulated`` (the double does creates only). Pass
  ``state=first.state`` to a new double to continue a previous "stack".
* ``adopt_existing`` (default on): a Role or Database that already exists on
  the server, but is not in ``state``, is not created again. The real provider
  would fail there; ``adopt_existing=False`` behaves like it.

SQL sources (cyrilgdn/terraform-provider-postgresql, postgresql/):
resource_postgresql_role.go (resourcePostgreSQLRoleCreate, alterSearchPath),
resource_postgresql_database.go (createDatabase), resource_postgresql_schema.go
(createSchema), resource_postgresql_extension.go, resource_postgresql_grant.go
(createRevokeQuery, createGrantQuery), helpers.go (pqQuoteLiteral).
"""

from __future__ import annotations

import secrets
import string
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pulumi

from tests.support.mocks import reveal
from tests.support.pgserver import PgServer
from tests.support.program import SECRET_KEYS, RegistrationQueries, run_main, run_under_mocks

PROVIDER_TYPE = "pulumi:providers:postgresql"
RANDOM_PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"


class UpdateNotEmulated(RuntimeError):
    """A resource already in state came back with different inputs."""


# --------------------------------------------------------------------------
# Quoting, as the provider does it
# --------------------------------------------------------------------------
def quote_ident(name: str) -> str:
    """lib/pq ``QuoteIdentifier``: cut at NUL, double quotes doubled, wrapped in double quotes."""
    name = name.split("\x00", 1)[0]
    return '"' + name.replace('"', '""') + '"'


def pq_quote_literal(value: str) -> str:
    """The provider's own ``pqQuoteLiteral`` (helpers.go): backslashes and single
    quotes doubled; the caller wraps the result in ``'...'``, without an ``E``
    prefix. With ``standard_conforming_strings=on`` (the default since 9.1) a
    backslash therefore reaches the server doubled: a role password containing
    ``\\`` is stored as a different password than the one given.
    """
    return value.replace("\\", "\\\\").replace("'", "''")


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):  # provider inputs arrive as strings
        return value.lower() == "true"
    return bool(value)


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]  # secrets revealed
    provider: str
    custom: bool


@dataclass(frozen=True)
class ProviderConfig:
    """A ``postgresql.Provider`` as the program configured it (not where the double connects)."""

    name: str
    host: str | None
    port: int | None
    username: str | None
    password: str | None
    sslmode: str | None
    database: str | None
    superuser: bool | None
    inputs: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Stored:
    """A resource as the emulated engine keeps it in state."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]  # revealed, to detect a diff on the next run

    def result(self) -> Any:
        """Convenience for RandomPassword entries."""
        return reveal(self.outputs.get("result"))


@dataclass
class Ctx:
    """What a create function gets: revealed inputs, the database it runs in, an executor."""

    name: str
    inputs: dict[str, Any]
    database: str
    run: Callable[..., list[tuple]]  # run(sql, params=None, *, database=None, autocommit=False)
    superuser: str


# --------------------------------------------------------------------------
# One function per resource type: the provider's create
# --------------------------------------------------------------------------
def _unsupported(ctx: Ctx, *keys: str) -> None:
    used = [k for k in keys if ctx.inputs.get(k) not in (None, [], {}, "", 0, False)]
    if used:
        raise NotImplementedError(f"pg_double does not emulate {used} of {ctx.name}")


def _exists(ctx: Ctx, sql: str, value: str, database: str | None = None) -> bool:
    return bool(ctx.run(sql, (value,), database=database))


def create_role(ctx: Ctx, adopt_existing: bool) -> tuple[str, dict]:
    i = ctx.inputs
    _unsupported(ctx, "parameters", "passwordWo")
    name = i["name"]
    if adopt_existing and _exists(ctx, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", name, "postgres"):
        return name, {}
    opts: list[str] = []
    password = i.get("password")
    if password:
        if password.upper() == "NULL":
            opts.append("PASSWORD NULL")
        else:
            opts.append("ENCRYPTED" if _bool(i.get("encryptedPassword"), True) else "UNENCRYPTED")
            opts.append(f"PASSWORD '{pq_quote_literal(password)}'")
    valid_until = i.get("validUntil") or "infinity"
    opts.append(
        "VALID UNTIL 'infinity'"
        if valid_until.lower() == "infinity"
        else f"VALID UNTIL '{pq_quote_literal(valid_until)}'"
    )
    opts.append(f"CONNECTION LIMIT {int(i.get('connectionLimit', -1))}")
    for key, default, on, off in (
        ("superuser", False, "SUPERUSER", "NOSUPERUSER"),
        ("createDatabase", False, "CREATEDB", "NOCREATEDB"),
        ("createRole", False, "CREATEROLE", "NOCREATEROLE"),
        ("inherit", True, "INHERIT", "NOINHERIT"),
        ("login", False, "LOGIN", "NOLOGIN"),
        ("bypassRowLevelSecurity", False, "BYPASSRLS", "NOBYPASSRLS"),
        ("replication", False, "REPLICATION", "NOREPLICATION"),
    ):
        opts.append(on if _bool(i.get(key), default) else off)
    statements = [f"CREATE ROLE {quote_ident(name)} WITH {' '.join(opts)}"]
    statements += [f"GRANT {quote_ident(r)} TO {quote_ident(name)}" for r in i.get("roles") or []]
    search_path = i.get("searchPaths") or []
    for part in search_path:
        if ", " in part:
            raise ValueError(f"search_path cannot contain `, `: {part}")
    path_sql = ", ".join(quote_ident(p) for p in search_path) if search_path else "DEFAULT"
    statements.append(f"ALTER ROLE {quote_ident(name)} SET search_path TO {path_sql}")
    for key, setting in (
        ("statementTimeout", "statement_timeout"),
        ("idleInTransactionSessionTimeout", "idle_in_transaction_session_timeout"),
    ):
        if i.get(key):
            statements.append(f"ALTER ROLE {quote_ident(name)} SET {setting} TO {int(i[key])}")
    if i.get("assumeRole"):
        statements.append(f"ALTER ROLE {quote_ident(name)} SET ROLE TO {quote_ident(i['assumeRole'])}")
    ctx.run(statements, database="postgres")
    return name, {
        "connectionLimit": int(i.get("connectionLimit", -1)),
        "validUntil": "infinity",
        "searchPaths": search_path,
    }


def create_database(ctx: Ctx, adopt_existing: bool) -> tuple[str, dict]:
    i = ctx.inputs
    name = i["name"]
    if adopt_existing and _exists(ctx, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", name, "postgres"):
        return name, {}
    owner = i.get("owner") or ctx.superuser  # the provider defaults to its connecting user
    sql = f"CREATE DATABASE {quote_ident(name)} OWNER {quote_ident(owner)}"
    template = i.get("template")
    if template and template.upper() == "DEFAULT":
        sql += " TEMPLATE DEFAULT"
    else:
        sql += f" TEMPLATE {quote_ident(template or 'template0')}"
    encoding = i.get("encoding")
    if encoding and encoding.upper() == "DEFAULT":
        sql += " ENCODING DEFAULT"
    else:
        sql += f" ENCODING '{pq_quote_literal(encoding or 'UTF8')}'"
    for key, word in (("lcCollate", "LC_COLLATE"), ("lcCtype", "LC_CTYPE")):
        if i.get(key):
            sql += f" {word} DEFAULT" if i[key].upper() == "DEFAULT" else f" {word} '{pq_quote_literal(i[key])}'"
    if i.get("tablespaceName"):
        ts = i["tablespaceName"]
        sql += " TABLESPACE DEFAULT" if ts.upper() == "DEFAULT" else f" TABLESPACE {quote_ident(ts)}"
    sql += f" ALLOW_CONNECTIONS {str(_bool(i.get('allowConnections'), True)).lower()}"
    sql += f" CONNECTION LIMIT {int(i.get('connectionLimit', -1))}"
    sql += f" IS_TEMPLATE {str(_bool(i.get('isTemplate'), False)).lower()}"
    ctx.run(sql, database="postgres", autocommit=True)  # CREATE DATABASE cannot run in a transaction
    return name, {"owner": owner, "template": template or "template0", "encoding": encoding or "UTF8"}


def create_schema(ctx: Ctx, adopt_existing: bool) -> tuple[str, dict]:
    i = ctx.inputs
    _unsupported(ctx, "policies")
    name, owner = i["name"], i.get("owner")
    if _exists(ctx, "SELECT TRUE FROM pg_catalog.pg_namespace WHERE nspname = %s", name):
        # The provider's create on an existing schema only sets its owner.
        statements = [f"ALTER SCHEMA {quote_ident(name)} OWNER TO {quote_ident(owner)}"] if owner else []
    else:
        sql = "CREATE SCHEMA "
        if _bool(i.get("ifNotExists"), True):
            sql += "IF NOT EXISTS "
        sql += quote_ident(name)
        if owner:
            sql += f" AUTHORIZATION {quote_ident(owner)}"
        statements = [sql]
    if statements:
        ctx.run(statements)
    actual_owner = ctx.run(
        "SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = %s", (name,)
    )[0][0]
    return f"{ctx.database}.{name}", {"database": ctx.database, "owner": actual_owner}


def create_extension(ctx: Ctx, adopt_existing: bool) -> tuple[str, dict]:
    i = ctx.inputs
    name = i["name"]
    sql = f"CREATE EXTENSION IF NOT EXISTS {quote_ident(name)}"
    if i.get("schema"):
        sql += f" SCHEMA {quote_ident(i['schema'])}"
    if i.get("version"):
        sql += f" VERSION {quote_ident(i['version'])}"
    if _bool(i.get("createCascade"), False):
        sql += " CASCADE"
    ctx.run(sql)
    schema, version = ctx.run(
        "SELECT n.nspname, e.extversion FROM pg_catalog.pg_extension e "
        "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = %s",
        (name,),
    )[0]
    return f"{ctx.database}.{name}", {"database": ctx.database, "schema": schema, "version": version}


def create_grant(ctx: Ctx, adopt_existing: bool) -> tuple[str, dict]:
    """Revoke everything the role holds on the object, then grant the listed
    privileges (the provider's create, in one transaction). Note: on an object
    the role owns, the revoke also strips the owner's own privileges."""
    i = ctx.inputs
    _unsupported(ctx, "objects", "columns")
    object_type = i["objectType"].upper()
    role = quote_ident(i["role"])
    if object_type == "DATABASE":
        target = f"DATABASE {quote_ident(i['database'])}"
    elif object_type == "SCHEMA":
        if not i.get("schema"):
            raise ValueError("parameter 'schema' is mandatory for postgresql_grant resource")
        target = f"SCHEMA {quote_ident(i['schema'])}"
    else:
        raise NotImplementedError(f"pg_double does not emulate grants on {object_type}")
    statements = [f"REVOKE ALL PRIVILEGES ON {target} FROM {role}"]
    if i["privileges"]:  # an empty list revokes only (grantRolePrivileges returns early)
        grant = f"GRANT {','.join(i['privileges'])} ON {target} TO {role}"
        statements.append(grant + (" WITH GRANT OPTION" if _bool(i.get("withGrantOption"), False) else ""))
    ctx.run(statements, database=i["database"])
    parts = [i["role"], i["database"]] + ([i["schema"]] if object_type == "SCHEMA" else []) + [i["objectType"]]
    return "_".join(parts), {}


CREATE: dict[str, Callable[[Ctx, bool], tuple[str, dict]]] = {
    "postgresql:index/role:Role": create_role,
    "postgresql:index/database:Database": create_database,
    "postgresql:index/schema:Schema": create_schema,
    "postgresql:index/extension:Extension": create_extension,
    "postgresql:index/grant:Grant": create_grant,
}


# --------------------------------------------------------------------------
# The mocks
# --------------------------------------------------------------------------
class PgDouble(RegistrationQueries, pulumi.runtime.Mocks):
    """Stands in for pulumi-postgresql's create against ``server`` (see module doc)."""

    def __init__(
        self,
        server: PgServer,
        *,
        adopt_existing: bool = True,
        state: dict[tuple[str, str], Stored] | None = None,
    ) -> None:
        self.server = server
        self.adopt_existing = adopt_existing
        #: (type, name) -> what the "engine" stored: the stack state across runs.
        self.state: dict[tuple[str, str], Stored] = state if state is not None else {}
        self.registrations: list[Registration] = []
        #: provider id -> the program's provider configuration.
        self.providers: dict[str, ProviderConfig] = {}
        #: (database, sql) of every statement the double ran, in order.
        self.statements: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str, BaseException]] = []
        #: The stack outputs (``pulumi.export``) of the last ``run_program``, secrets revealed.
        self.exports: dict[str, Any] = {}
        self._lock = threading.RLock()  # the SDK registers resources from several threads

    # -- SQL -------------------------------------------------------------
    def _run(
        self, statements: str | list[str], params: tuple | None = None, *, database: str, autocommit: bool = False
    ) -> list[tuple]:
        if isinstance(statements, str):
            statements = [statements]
        rows: list[tuple] = []
        with psycopg.connect(self.server.dsn(database=database), autocommit=autocommit) as conn:
            for sql in statements:
                if params is None:  # DDL is logged; catalog look-ups are not
                    self.statements.append((database, sql))
                cur = conn.execute(sql, params)  # type: ignore[arg-type]
                if cur.description is not None:
                    rows = cur.fetchall()
        return rows

    # -- Mocks API -------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        with self._lock:
            try:
                return self._new_resource(args)
            except Exception as exc:  # noqa: BLE001 - recorded; run_program raises the first one
                # Answer anyway, so the program runs to its end: an aborted run would
                # leave registrations pending on the SDK's shared loop, to reach the
                # next test's double.
                self.errors.append((args.typ, args.name, exc))
                return f"{args.name}-failed", dict(args.inputs)

    def _new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = reveal(args.inputs)
        self.registrations.append(Registration(args.typ, args.name, inputs, args.provider or "", bool(args.custom)))
        key = (args.typ, args.name)
        stored = self.state.get(key)
        if stored is not None:
            if stored.inputs != inputs:
                changed = sorted(k for k in set(stored.inputs) | set(inputs) if stored.inputs.get(k) != inputs.get(k))
                raise UpdateNotEmulated(f"{args.typ} {args.name!r} changed {changed}; pg_double emulates creates only")
            self._record_provider(args, inputs, stored.id)
            return stored.id, stored.outputs

        state = dict(args.inputs)
        if args.typ == PROVIDER_TYPE:
            id_ = str(uuid.uuid4())
            self._record_provider(args, inputs, id_)
        elif args.typ in CREATE:
            ctx = Ctx(
                name=args.name,
                inputs=inputs,
                database=inputs.get("database") or self._provider_database(args.provider),
                run=lambda sql, params=None, *, database=None, autocommit=False: self._run(
                    sql, params, database=database or ctx.database, autocommit=autocommit
                ),
                superuser=self.server.superuser,
            )
            id_, computed = CREATE[args.typ](ctx, self.adopt_existing)
            state.update(computed)
        else:
            id_ = f"{args.name}-id"
            if args.typ == RANDOM_PASSWORD_TYPE:
                alphabet = string.ascii_letters + string.digits
                state["result"] = "".join(secrets.choice(alphabet) for _ in range(int(inputs.get("length", 16))))
        self.state[key] = Stored(id_, state, inputs)
        return id_, state

    def _record_provider(self, args: pulumi.runtime.MockResourceArgs, inputs: Mapping[str, Any], id_: str) -> None:
        if args.typ != PROVIDER_TYPE:
            return
        port = inputs.get("port")
        self.providers[id_] = ProviderConfig(
            name=args.name,
            host=inputs.get("host"),
            port=int(port) if port not in (None, "") else None,
            username=inputs.get("username"),
            password=inputs.get("password"),
            sslmode=inputs.get("sslmode"),
            database=inputs.get("database"),
            superuser=_bool(inputs.get("superuser"), True) if "superuser" in inputs else None,
            inputs=dict(inputs),
        )

    def _provider_database(self, provider_ref: str | None) -> str:
        """The provider's ``database`` (default ``postgres``), as the real one uses it."""
        if provider_ref:
            config = self.providers.get(provider_ref.rsplit("::", 1)[-1])
            if config and config.database:
                return config.database
        return "postgres"


def run_program(
    double: PgDouble,
    program: Callable[[], Any],
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
) -> PgDouble:
    """Run ``program`` (a function registering resources) under the double as
    one fresh ``pulumi up``; the stack's exports land in ``double.exports``,
    secrets revealed. Raises the first error the double met."""
    errors_before = len(double.errors)
    double.exports = {}
    failure: BaseException | None = None
    try:
        outputs = run_under_mocks(program, double, config=config, secret_keys=secret_keys)
        double.exports = {key: reveal(out.value) for key, out in outputs.items()}
    except Exception as exc:  # noqa: BLE001 - re-raised below, with the double's own error first
        failure = exc
    if len(double.errors) > errors_before:
        typ, name, exc = double.errors[errors_before]
        raise RuntimeError(f"pg_double failed on {typ} {name!r}: {exc}") from exc
    if failure is not None:
        raise failure
    return double


def run_main_program(double: PgDouble, config: Mapping[str, str]) -> PgDouble:
    """The whole ``__main__.py`` through the double, with ``config`` (full keys)."""
    return run_program(double, run_main, config=config, secret_keys=[f"hive:{k}" for k in SECRET_KEYS])
