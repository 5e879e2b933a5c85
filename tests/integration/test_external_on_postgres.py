"""External mode against a server that already holds the app's role, database
and data (an existing installation): the program adds its objects and loses
nothing. The double runs strictly here: an existing role or database would make
it fail, as the real provider does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import dbchecks
from tests.support.pg_double import PgDouble, run_main_program
from tests.support.pgserver import PgServer

USER = "Hq3xLegacyUser"  # the legacy installer's mixed-case kind of name
PASSWORD = "Existing-Passw0rd-99"
DATABASE = "legacy_hive"


@pytest.fixture(scope="module")
def existing(pg_server: PgServer) -> PgServer:
    with pg_server.connect() as conn:
        conn.execute(f"create role \"{USER}\" login password '{PASSWORD}'")
        conn.execute(f'create database {DATABASE} owner "{USER}"')
    with pg_server.connect(user=USER, password=PASSWORD, database=DATABASE) as conn:
        conn.execute("create table conversations (id int primary key, body text)")
        conn.execute("insert into conversations values (1, 'hello'), (2, 'world')")
    return pg_server


@pytest.fixture(scope="module")
def external_run(existing: PgServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[PgDouble, dict[str, str]]:
    config = {
        "hive:postgresMode": "external",
        "hive:postgresHost": existing.host,
        "hive:dbPort": str(existing.port),
        "hive:adminUser": existing.superuser,
        "hive:adminPassword": existing.password,
        "hive:sslMode": "disable",  # the throwaway server speaks no TLS
        "hive:adoptDatabase": "true",
        "hive:dbUser": USER,
        "hive:dbPassword": PASSWORD,
        "hive:database": DATABASE,
        "hive:apiContainers": "false",
        "hive:extensions": json.dumps(["citext"]),
        "hive:envDir": str(tmp_path_factory.mktemp("external-env")),
    }
    return run_main_program(PgDouble(existing, adopt_existing=False), config), config


def _urls(double: PgDouble) -> dict[str, str]:
    return double.exports["databaseUrls"]


def test_existing_role_and_database_are_left_alone(external_run: tuple[PgDouble, dict[str, str]]) -> None:
    double, _ = external_run
    assert not double.errors, f"the program's objects are added cleanly: {double.errors}"
    sql = [s for _, s in double.statements]
    assert not [
        s for s in sql if s.startswith(("CREATE ROLE", "ALTER ROLE", "DROP", f'CREATE DATABASE "{DATABASE}" '))
    ], "an adopted role and database are neither created, altered nor dropped"
    created = sorted(s.split('"')[1] for s in sql if s.startswith("CREATE DATABASE"))
    assert created == [f"{DATABASE}_agent", f"{DATABASE}_genie"], "the other modes' databases are the stack's"
    assert all(f'OWNER "{USER}"' in s for s in sql if s.startswith("CREATE DATABASE")), "owned by the login"
    in_agent = [s for db, s in double.statements if db == f"{DATABASE}_agent"]
    assert any(s.startswith(f'CREATE SCHEMA IF NOT EXISTS "agent" AUTHORIZATION "{USER}"') for s in in_agent), (
        "the mode schemas are added in their databases, owned by the existing (mixed-case, quoted) login"
    )


def test_existing_rows_survive_and_modes_work(external_run: tuple[PgDouble, dict[str, str]]) -> None:
    double, _ = external_run
    urls = _urls(double)
    assert all(url.endswith("sslmode=disable") for url in urls.values()), "external URLs carry the sslmode"
    assert dbchecks.scalar(urls["workspace"], "select count(*) from conversations") == 2, (
        "the workspace mode still reads the existing data in public"
    )
    dbchecks.assert_current_schema(urls, {"workspace": "public", "agent": "agent", "genie": "genie"})
    table = dbchecks.unique("ext")
    dbchecks.execute(urls["agent"], f"create table {table} (email citext)", f"insert into {table} values ('X@Y.org')")
    assert dbchecks.scalar(urls["agent"], f"select count(*) from {table} where email = 'x@y.org'") == 1, (
        "the agent mode gets its schema and the extension's type"
    )


def test_second_run_changes_nothing(external_run: tuple[PgDouble, dict[str, str]], tmp_path: Path) -> None:
    double, config = external_run
    before = len(double.statements)
    run_main_program(double, config)
    assert len(double.statements) == before, "a second up issues no SQL"
    assert dbchecks.scalar(_urls(double)["workspace"], "select body from conversations where id = 2") == "world", (
        "and no row is lost"
    )
