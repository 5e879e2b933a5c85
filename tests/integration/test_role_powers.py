"""What the application's role can and cannot do, on the layout the program
creates (``__main__.py`` through the provider double), as the README says.

Each check connects with an exported URL, as the application would."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.support.pg_double import PgDouble, run_main_program
from tests.support.pgserver import PgServer

ROLE = "powers"


def _run(pg_server: PgServer, tmp_path: Path, **config: str) -> dict[str, str]:
    values = {
        "hive:dbPort": str(pg_server.port),
        "hive:extensions": json.dumps(["citext"]),
        "hive:envDir": str(tmp_path),
        "hive:adminPassword": "container-admin-password",
        "hive:apiContainers": "false",
        **{f"hive:{k}": v for k, v in config.items()},
    }
    urls: dict[str, str] = run_main_program(PgDouble(pg_server), values).exports["databaseUrls"]
    return urls


def connect(url: str, database: str | None = None) -> psycopg.Connection:
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
        dbname=database or parsed.database, autocommit=True,
    )  # fmt: skip


def refused(url: str, sql: str, database: str | None = None) -> type[Exception] | None:
    """The error class PostgreSQL answers ``sql`` with, or None when it runs."""
    try:
        with connect(url, database) as conn:
            conn.execute(sql)
    except psycopg.Error as exc:
        return type(exc)
    return None


@pytest.fixture(scope="module")
def container_urls(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The default layout on the stack's own server (container mode)."""
    return _run(pg_server, tmp_path_factory.mktemp("powers"), database=ROLE, dbUser=ROLE)


def test_no_cluster_powers(container_urls: dict[str, str]) -> None:
    url = container_urls["agent"]
    with connect(url) as conn:
        row = conn.execute("select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user")
        assert row.fetchone() == (False, False, False), "not a superuser, may create neither roles nor databases"
    assert refused(url, "create role intruder") is psycopg.errors.InsufficientPrivilege, "CREATE ROLE is refused"
    assert refused(url, "create database intruder") is psycopg.errors.InsufficientPrivilege, "CREATE DATABASE too"


def test_the_maintenance_databases_are_closed_to_it(container_urls: dict[str, str]) -> None:
    for database in ("postgres", "template1"):
        assert refused(container_urls["workspace"], "select 1", database) is psycopg.OperationalError, (
            f"the stack's own server revokes PUBLIC's CONNECT on {database}"
        )


def test_it_reaches_every_modes_database(container_urls: dict[str, str]) -> None:
    """One shared role: kept apart from mistakes, not from attacks (README)."""
    for database in (f"{ROLE}_agent", f"{ROLE}_genie"):
        with connect(container_urls["workspace"], database) as conn:
            assert conn.execute("select current_database()").fetchone() == (database,), (
                f"workspace's credentials also open {database}"
            )


def test_it_owns_its_databases_and_schemas_but_not_the_extensions(container_urls: dict[str, str]) -> None:
    url = container_urls["agent"]
    with connect(url) as conn:
        owner = conn.execute("select pg_get_userbyid(datdba) from pg_database where datname = current_database()")
        assert owner.fetchone() == (ROLE,), "it owns its database (so it may drop it, when nobody is connected)"
        schema_owner = conn.execute("select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'agent'")
        assert schema_owner.fetchone() == (ROLE,), "and its mode schema (so it may drop that too)"
    assert refused(url, "create schema scratch_schema; drop schema scratch_schema") is None, "it creates schemas"
    assert refused(url, "drop extension citext") is psycopg.errors.InsufficientPrivilege, (
        "the admin's extension stays: only its owner may drop it"
    )
    assert refused(url, "create extension if not exists pgcrypto") is None, (
        "a trusted extension (PostgreSQL 13+) may be created by the database's owner"
    )
    assert refused(url, "create extension file_fdw") is psycopg.errors.InsufficientPrivilege, "an untrusted one may not"


def test_it_may_drop_another_modes_database(container_urls: dict[str, str]) -> None:
    """The documented sharp edge of one shared role: ownership of every mode's database."""
    assert refused(container_urls["workspace"], f"drop database {ROLE}_genie") is None, (
        "the owner drops a database nobody is connected to: separate stacks are the answer when this matters"
    )


def test_in_one_database_the_extensions_schema_is_the_admins(
    pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    urls = _run(pg_server, tmp_path_factory.mktemp("powers-schema"), isolation="schema", database="powers_one",
                dbUser="powers_one")  # fmt: skip
    assert refused(urls["genie"], "drop schema extensions cascade") is psycopg.errors.InsufficientPrivilege, (
        "the role uses the shared extensions schema but cannot drop it"
    )
    assert refused(urls["genie"], "create table agent.from_genie (x int)") is None, (
        "in one database a mode can write another mode's schema when it qualifies it (README)"
    )
