"""The real program (``__main__.py``) through the provider double: what it
creates in PostgreSQL, checked with the same URL checks as the hand-made layout.

Docker and the .env writer stay plain mocks: only the in-database resources
really happen.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from dotenv import dotenv_values

from tests.support import dbchecks
from tests.support.pg_double import PgDouble, run_main_program
from tests.support.pgserver import PgServer

SCHEMAS = {"workspace": "public", "agent": "agent", "genie": "genie"}


#: Each layout on the one throwaway server, under names of its own.
LAYOUTS = {
    "database": {"hive:isolation": "database"},
    "schema": {"hive:isolation": "schema", "hive:dbUser": "hive_one", "hive:database": "hive_one"},
}
USERS = {"database": "hive", "schema": "hive_one"}


def _config(pg_server: PgServer, tmp_path: Path, isolation: str = "database") -> dict[str, str]:
    # The program's own view: its provider says localhost:<dbPort> with the
    # container's admin password; the double connects to the throwaway server.
    return {
        "hive:dbPort": str(pg_server.port),
        "hive:extensions": json.dumps(["citext"]),  # no pgvector here; citext follows the same rules
        "hive:envDir": str(tmp_path),
        "hive:adminPassword": "container-admin-password",
        **LAYOUTS[isolation],
    }


@dataclass
class ProgramRun:
    double: PgDouble
    config: dict[str, str]
    isolation: str

    @property
    def urls(self) -> dict[str, str]:
        urls = self.double.exports.get("databaseUrls")
        assert isinstance(urls, dict) and urls, f"the program exports no databaseUrls: {sorted(self.double.exports)}"
        return urls

    @property
    def schemas(self) -> dict[str, str]:
        return {m: SCHEMAS[m] for m in self.urls}


@pytest.fixture(scope="module", params=list(LAYOUTS))
def program_run(
    request: pytest.FixtureRequest, pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory
) -> ProgramRun:
    isolation = request.param
    config = _config(pg_server, tmp_path_factory.mktemp(f"env-{isolation}"), isolation)
    return ProgramRun(run_main_program(PgDouble(pg_server), config), config, isolation)


def test_program_creates_its_layout_without_errors(program_run: ProgramRun) -> None:
    double = program_run.double
    assert not double.errors, f"every object is created cleanly: {double.errors}"
    assert double.of_type("postgresql:index/role:Role"), "the role"
    expected = {"database": {"hive", "hive_agent", "hive_genie"}, "schema": {"hive_one"}}[program_run.isolation]
    with psycopg.connect(double.server.dsn()) as conn:
        names = {r[0] for r in conn.execute("select datname from pg_database").fetchall()}
    assert expected <= names, f"{program_run.isolation}: the databases exist on the server"
    assert set(double.exports["databases"].values()) == expected, "and the databases export names them"


def test_program_urls_reach_the_modes_schema(program_run: ProgramRun) -> None:
    urls, schemas = program_run.urls, program_run.schemas
    dbchecks.assert_not_superuser(urls)
    dbchecks.assert_current_schema(urls, schemas)
    dbchecks.assert_unqualified_create_lands_in_own_schema(urls, schemas)
    dbchecks.assert_schemas_do_not_leak_unqualified(urls)
    dbchecks.assert_libpq_and_psql_accept(urls, schemas)


def test_program_second_run_changes_nothing_and_keeps_rows(program_run: ProgramRun) -> None:
    double = program_run.double
    url = program_run.urls["agent"]
    table = dbchecks.unique("kept")
    dbchecks.execute(url, f"create table {table} (x int)", "insert into " + table + " values (7)")
    before = len(double.statements)
    run_main_program(double, program_run.config)
    assert len(double.statements) == before, "a second up issues no SQL"
    assert dbchecks.scalar(url, f"select x from {table}") == 7, "and loses no row"


def test_extension_type_resolves_from_every_mode(program_run: ProgramRun) -> None:
    for mode, url in program_run.urls.items():
        table = dbchecks.unique(f"ci_{mode}")
        dbchecks.execute(url, f"create table {table} (email citext)", f"insert into {table} values ('A@B.example')")
        assert dbchecks.scalar(url, f"select count(*) from {table} where email = 'a@b.example'") == 1, (
            f"{mode}: citext must resolve unqualified through the mode's search_path"
        )


def test_workspace_creates_in_public_on_postgres_15(program_run: ProgramRun) -> None:
    url = program_run.urls["workspace"]
    table = dbchecks.unique("pub")
    dbchecks.execute(url, f"create table public.{table} (x int)")
    assert dbchecks.scalar(url, "select current_user") == USERS[program_run.isolation], (
        "as the app role, which owns the database"
    )


def test_schema_qualified_tables_stay_in_their_mode_with_a_database_each(program_run: ProgramRun) -> None:
    """The application names its own schemas (hive, agno, ai): only separate
    databases keep one mode's rows from another; one database shares them."""
    if program_run.isolation == "database":
        dbchecks.assert_qualified_tables_stay_in_their_mode(program_run.urls)
    else:
        dbchecks.assert_qualified_tables_are_shared(program_run.urls)
        dbchecks.assert_shared_role_reads_across_schemas(program_run.urls, program_run.schemas)


def test_env_file_values_reach_the_same_place_as_the_url(program_run: ProgramRun) -> None:
    extensions = "public" if program_run.isolation == "database" else "extensions"
    for mode, env_file in program_run.double.exports["envFiles"].items():
        env = dotenv_values(stream=io.StringIO(env_file["content"]))
        with psycopg.connect(
            host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"], dbname=env["POSTGRES_DB"],
            options=f"-csearch_path={env['HIVE_DB_SCHEMA']},{extensions}",
        ) as conn:  # fmt: skip
            by_keys = conn.execute("select current_database(), current_user, current_schema()").fetchone()
        by_url = (
            dbchecks.scalar(env["HIVE_DATABASE_URL"], "select current_database()"),
            dbchecks.scalar(env["HIVE_DATABASE_URL"], "select current_user"),
            dbchecks.scalar(env["HIVE_DATABASE_URL"], "select current_schema()"),
        )
        database = program_run.double.exports["databases"][mode]
        assert by_keys == by_url == (database, USERS[program_run.isolation], SCHEMAS[mode]), (
            f"{mode}: POSTGRES_* and the URL reach the mode's database and schema"
        )


def test_special_character_password_connects_through_every_url(
    pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    password = "p@ss:w/rd?#%&=+ ;'\"x$y,é"
    config = {
        **_config(pg_server, tmp_path_factory.mktemp("special")),
        "hive:dbUser": "hive_special",
        "hive:database": "hive_special",
        "hive:dbPassword": password,
    }
    double = run_main_program(PgDouble(pg_server), config)
    urls = double.exports["databaseUrls"]
    assert len(urls) == 3, "every mode has a URL"
    for mode, url in urls.items():
        assert dbchecks.scalar(url, "select current_user") == "hive_special", f"{mode}: the odd password logs in"
    dbchecks.assert_libpq_and_psql_accept(urls, {m: SCHEMAS[m] for m in urls})
