"""The provider double against the throwaway server, with resources registered
directly: the layout the program will make (one role, one database it owns,
schemas ``extensions``/``agent``/``genie``, ``citext`` in ``extensions``), then
what each mode's URL can do there."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import pulumi
import pulumi_postgresql as postgresql
import pulumi_random as random
import pytest
import sqlalchemy as sa

from tests.support import dbchecks
from tests.support.pg_double import PgDouble, UpdateNotEmulated, pq_quote_literal, quote_ident, run_program
from tests.support.pgserver import PgServer

DATABASE = "hive_direct"
ROLE = "hive_direct"
SCHEMAS = {"workspace": "public", "agent": "agent", "genie": "genie"}
CONTAINER_ADMIN_PASSWORD = "container-admin-password"


def layout_program(
    role: str = ROLE, database: str = DATABASE, password: pulumi.Input[str] | None = None
) -> Callable[[], None]:
    """A small program registering the in-database layout through a provider
    pointed, like the real program's, at the container (localhost:5532)."""

    def program() -> None:
        provider = postgresql.Provider(
            "pg",
            host="localhost",
            port=5532,
            username="postgres",
            password=pulumi.Output.secret(CONTAINER_ADMIN_PASSWORD),
            sslmode="disable",
            database="postgres",
            superuser=True,
        )
        opts = pulumi.ResourceOptions(provider=provider)
        pw = (
            password
            if password is not None
            else random.RandomPassword("role-password", length=24, special=False).result
        )
        r = postgresql.Role(
            "role", name=role, login=True, password=pw, superuser=False, create_database=False,
            create_role=False, search_paths=["public", "extensions"], opts=opts,
        )  # fmt: skip
        db = postgresql.Database("database", name=database, owner=r.name, opts=opts)
        schemas = {
            s: postgresql.Schema(f"schema-{s}", name=s, database=db.name, owner=r.name, opts=opts)
            for s in ("extensions", "agent", "genie")
        }
        postgresql.Extension("citext", name="citext", database=db.name, schema=schemas["extensions"].name, opts=opts)
        postgresql.Grant(
            "extensions-usage", database=db.name, role=r.name, object_type="schema",
            schema=schemas["extensions"].name, privileges=["USAGE"], opts=opts,
        )  # fmt: skip

    return program


@dataclass(frozen=True)
class Layout:
    double: PgDouble
    password: str
    urls: dict[str, str]


@pytest.fixture(scope="module")
def layout(pg_server: PgServer) -> Layout:
    double = run_program(PgDouble(pg_server), layout_program())
    password = double.state[("random:index/randomPassword:RandomPassword", "role-password")].result()
    urls = {
        mode: dbchecks.mode_url(ROLE, password, pg_server.host, pg_server.port, DATABASE, schema)
        for mode, schema in SCHEMAS.items()
    }
    return Layout(double, password, urls)


# ----------------------------------------------------------------------------
# What the double did
# ----------------------------------------------------------------------------
def test_double_issues_the_providers_sql(layout: Layout) -> None:
    sql = [s for _, s in layout.double.statements]
    assert any(s.startswith(f'CREATE ROLE "{ROLE}" WITH ENCRYPTED PASSWORD \'') for s in sql)
    role_sql = next(s for s in sql if s.startswith("CREATE ROLE"))
    assert role_sql.endswith(
        "VALID UNTIL 'infinity' CONNECTION LIMIT -1 "
        "NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT LOGIN NOBYPASSRLS NOREPLICATION"
    )
    assert f'ALTER ROLE "{ROLE}" SET search_path TO "public", "extensions"' in sql
    assert (
        f'CREATE DATABASE "{DATABASE}" OWNER "{ROLE}" TEMPLATE "template0" ENCODING \'UTF8\' '
        "ALLOW_CONNECTIONS true CONNECTION LIMIT -1 IS_TEMPLATE false"
    ) in sql
    assert ("hive_direct", f'CREATE SCHEMA IF NOT EXISTS "agent" AUTHORIZATION "{ROLE}"') in layout.double.statements
    assert ("hive_direct", 'CREATE EXTENSION IF NOT EXISTS "citext" SCHEMA "extensions"') in layout.double.statements
    # Grant and extension both wait on the schema only, so their order varies; the grant's pair doesn't.
    grant = sql.index(f'GRANT USAGE ON SCHEMA "extensions" TO "{ROLE}"')
    assert sql[grant - 1] == f'REVOKE ALL PRIVILEGES ON SCHEMA "extensions" FROM "{ROLE}"'
    assert not layout.double.errors


def test_double_records_the_programs_provider_but_uses_the_throwaway_server(
    layout: Layout, pg_server: PgServer
) -> None:
    (config,) = layout.double.providers.values()
    assert (config.host, config.port, config.username, config.password, config.sslmode, config.database) == (
        "localhost", 5532, "postgres", CONTAINER_ADMIN_PASSWORD, "disable", "postgres",
    )  # fmt: skip
    assert config.port != pg_server.port
    with pg_server.connect(database=DATABASE) as conn:  # the objects really exist on the throwaway server
        assert (
            conn.execute(
                "select count(*) from pg_namespace where nspname in ('extensions','agent','genie')"
            ).fetchone()[0]
            == 3
        )


def test_every_registration_is_recorded_with_revealed_inputs(layout: Layout) -> None:
    role = layout.double.named("role")
    assert role.type == "postgresql:index/role:Role"
    assert role.inputs["password"] == layout.password
    assert role.inputs["searchPaths"] == ["public", "extensions"]
    assert len(layout.password) == 24 and layout.password.isalnum()
    assert {r.type for r in layout.double.registrations} == {
        "pulumi:providers:postgresql", "random:index/randomPassword:RandomPassword",
        *(
            f"postgresql:index/{t}"
            for t in ("role:Role", "database:Database", "schema:Schema", "extension:Extension", "grant:Grant")
        ),
    }  # fmt: skip


def test_quoting_matches_lib_pq() -> None:
    assert quote_ident('we"ird') == '"we""ird"'
    assert quote_ident("cut\x00here") == '"cut"'
    assert pq_quote_literal("it's a \\ path") == "it''s a \\\\ path"


# ----------------------------------------------------------------------------
# What the mode URLs can do
# ----------------------------------------------------------------------------
def test_role_is_not_superuser(layout: Layout) -> None:
    dbchecks.assert_not_superuser(layout.urls)


def test_search_path_picks_the_modes_schema(layout: Layout) -> None:
    dbchecks.assert_current_schema(layout.urls, SCHEMAS)
    assert "options=-csearch_path%3Dagent%2Cextensions" in layout.urls["agent"]


def test_unqualified_tables_land_in_the_modes_schema_and_citext_resolves(layout: Layout, pg_server: PgServer) -> None:
    # Workspace: PostgreSQL 15 gives PUBLIC no CREATE on public; the database owner may create there.
    assert pg_server.version >= 15
    dbchecks.assert_unqualified_create_lands_in_own_schema(layout.urls, SCHEMAS)


def test_schemas_do_not_see_each_other_unqualified(layout: Layout) -> None:
    dbchecks.assert_schemas_do_not_leak_unqualified(layout.urls)


def test_one_shared_role_reads_other_modes_tables_when_qualified(layout: Layout) -> None:
    dbchecks.assert_shared_role_reads_across_schemas(layout.urls, SCHEMAS)


def test_urls_work_with_libpq_and_psql(layout: Layout, pg_server: PgServer) -> None:
    psql = os.path.join(pg_server.bindir, "psql")
    assert os.access(psql, os.X_OK), f"no psql in {pg_server.bindir}"
    dbchecks.assert_libpq_and_psql_accept(layout.urls, SCHEMAS, psql=psql)


def test_without_extensions_on_the_path_the_type_does_not_resolve(layout: Layout) -> None:
    bare = layout.urls["agent"].replace("%2Cextensions", "")
    assert dbchecks.scalar(bare, "select current_setting('search_path')") == "agent"
    with pytest.raises(sa.exc.ProgrammingError, match='type "citext" does not exist'):
        dbchecks.execute(bare, f"create table {dbchecks.unique('t')} (e citext)")


def test_grant_on_an_owned_schema_strips_the_owners_create(layout: Layout) -> None:
    """The provider's grant revokes everything first, the owner's own rights
    included: the role owns ``extensions`` yet may no longer create there."""
    url = layout.urls["agent"]
    assert dbchecks.scalar(url, "select has_schema_privilege('extensions', 'USAGE')") is True
    assert dbchecks.scalar(url, "select has_schema_privilege('extensions', 'CREATE')") is False
    assert dbchecks.scalar(url, "select has_schema_privilege('agent', 'CREATE')") is True


# ----------------------------------------------------------------------------
# Passwords in URLs
# ----------------------------------------------------------------------------
SPECIAL_PASSWORD = "p@ss:w/rd?#%&=+ ;'\"\\"


def test_url_special_password_works_percent_encoded(pg_server: PgServer) -> None:
    """Set with correct quoting, every URL-special character survives percent-encoding."""
    from psycopg import sql

    with pg_server.connect() as conn:
        conn.execute(sql.SQL("create role special_pw login password {}").format(sql.Literal(SPECIAL_PASSWORD)))
        conn.execute("grant connect on database postgres to special_pw")
    url = dbchecks.mode_url("special_pw", SPECIAL_PASSWORD, pg_server.host, pg_server.port, "postgres", "public")
    assert "%40" in url and "%5C" in url and "%23" in url
    assert dbchecks.scalar(url, "select current_user") == "special_pw"
    with psycopg.connect(dbchecks.libpq_url(url)) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "special_pw"
    dbchecks.assert_libpq_and_psql_accept(
        {"workspace": url}, {"workspace": "public"}, psql=os.path.join(pg_server.bindir, "psql")
    )


def test_provider_quoting_doubles_a_backslash_in_a_role_password(pg_server: PgServer) -> None:
    """The provider writes PASSWORD '<pqQuoteLiteral>' without E'': a backslash
    reaches the server doubled, so a password with ``\\`` does not log in.
    Passwords the program hands to postgresql.Role must avoid backslashes."""
    without_backslash = SPECIAL_PASSWORD.rstrip("\\")
    run_program(
        PgDouble(pg_server),
        layout_program(role="pw_backslash", database="pw_backslash", password=pulumi.Output.secret(SPECIAL_PASSWORD)),
    )
    run_program(PgDouble(pg_server), layout_program(role="pw_plain", database="pw_plain", password=without_backslash))

    def url(role: str, password: str) -> str:
        return dbchecks.mode_url(role, password, pg_server.host, pg_server.port, role, "agent")

    assert dbchecks.scalar(url("pw_plain", without_backslash), "select current_schema()") == "agent"
    with pytest.raises(sa.exc.OperationalError, match="password authentication failed"):
        dbchecks.scalar(url("pw_backslash", SPECIAL_PASSWORD), "select 1")
    doubled = SPECIAL_PASSWORD.replace("\\", "\\\\")
    assert dbchecks.scalar(url("pw_backslash", doubled), "select current_user") == "pw_backslash"


# ----------------------------------------------------------------------------
# A second run
# ----------------------------------------------------------------------------
def test_second_run_changes_nothing_and_keeps_rows(layout: Layout, pg_server: PgServer) -> None:
    url = layout.urls["genie"]
    table = dbchecks.unique("kept")
    dbchecks.execute(url, f"create table {table} (x int)", f"insert into {table} values (1), (2)")
    before = len(layout.double.statements)

    # Same stack state: the engine finds every resource unchanged and runs nothing.
    run_program(layout.double, layout_program())
    assert len(layout.double.statements) == before
    assert not layout.double.errors

    # No shared state (a fresh double): existing role and database are adopted,
    # the rest is what the provider's create does on existing objects.
    fresh = run_program(PgDouble(pg_server), layout_program())
    assert not any(s.startswith(("CREATE ROLE", "CREATE DATABASE", "DROP")) for _, s in fresh.statements)
    assert dbchecks.scalar(url, f"select sum(x) from {table}") == 3
    # Its random password is new, but the role was adopted: the old one still logs in.
    dbchecks.assert_current_schema(layout.urls, SCHEMAS)


def test_strict_double_fails_like_the_provider_on_an_existing_role(layout: Layout, pg_server: PgServer) -> None:
    with pytest.raises(RuntimeError, match="already exists"):
        run_program(PgDouble(pg_server, adopt_existing=False), layout_program())


def test_changed_inputs_in_state_are_refused(layout: Layout) -> None:
    double = PgDouble(layout.double.server, state=dict(layout.double.state))
    with pytest.raises(RuntimeError, match="changed"):
        run_program(double, layout_program(password="a-new-password-1234"))
    assert isinstance(double.errors[0][2], UpdateNotEmulated)
