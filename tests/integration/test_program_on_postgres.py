"""The real program (``__main__.py``) through the provider double: what it
creates in PostgreSQL, checked with the same URL checks as the hand-made layout.

Docker and the .env writer stay plain mocks: only the in-database resources
really happen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration import dbchecks
from tests.integration.pg_double import PgDouble, run_main_program
from tests.integration.pgserver import PgServer

SCHEMAS = {"workspace": "public", "agent": "agent", "genie": "genie"}


def _config(pg_server: PgServer, tmp_path: Path) -> dict[str, str]:
    # The program's own view: its provider says localhost:<dbPort> with the
    # container's admin password; the double connects to the throwaway server.
    return {
        "hive:dbPort": str(pg_server.port),
        "hive:extensions": json.dumps(["citext"]),  # no pgvector here; citext follows the same rules
        "hive:envDir": str(tmp_path),
        "hive:adminPassword": "container-admin-password",
    }


@pytest.fixture(scope="module")
def program_run(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[PgDouble, dict[str, str]]:
    config = _config(pg_server, tmp_path_factory.mktemp("env"))
    return run_main_program(PgDouble(pg_server), config), config


def _urls(double: PgDouble) -> dict[str, str]:
    urls = double.exports.get("databaseUrls")
    assert isinstance(urls, dict) and urls, f"the program exports no databaseUrls: {sorted(double.exports)}"
    return urls


def test_program_creates_its_layout_without_errors(program_run) -> None:
    double, _ = program_run
    assert not double.errors
    assert double.of_type("postgresql:index/role:Role")
    assert double.of_type("postgresql:index/database:Database")


def test_program_urls_reach_the_modes_schema(program_run) -> None:
    double, _ = program_run
    urls = _urls(double)
    dbchecks.assert_not_superuser(urls)
    dbchecks.assert_current_schema(urls, {m: SCHEMAS[m] for m in urls})
    dbchecks.assert_unqualified_create_lands_in_own_schema(urls, {m: SCHEMAS[m] for m in urls})
    dbchecks.assert_schemas_do_not_leak_unqualified(urls)
    dbchecks.assert_libpq_and_psql_accept(urls, {m: SCHEMAS[m] for m in urls})


def test_program_second_run_changes_nothing_and_keeps_rows(program_run) -> None:
    double, config = program_run
    url = _urls(double)["agent"] if "agent" in _urls(double) else next(iter(_urls(double).values()))
    table = dbchecks.unique("kept")
    dbchecks.execute(url, f"create table {table} (x int)", "insert into " + table + " values (7)")
    before = len(double.statements)
    run_main_program(double, config)
    assert len(double.statements) == before
    assert dbchecks.scalar(url, f"select x from {table}") == 7


def test_extension_type_resolves_from_every_mode(program_run) -> None:
    double, _ = program_run
    for mode, url in _urls(double).items():
        table = dbchecks.unique(f"ci_{mode}")
        dbchecks.execute(url, f"create table {table} (email citext)", f"insert into {table} values ('A@B.example')")
        assert dbchecks.scalar(url, f"select count(*) from {table} where email = 'a@b.example'") == 1, (
            f"{mode}: citext from the extensions schema must resolve through the URL's search_path"
        )


def test_workspace_creates_in_public_on_postgres_15(program_run) -> None:
    double, _ = program_run
    url = _urls(double)["workspace"]
    table = dbchecks.unique("pub")
    dbchecks.execute(url, f"create table public.{table} (x int)")
    assert dbchecks.scalar(url, "select current_user") == "hive", "as the app role, which owns the database"


def test_one_role_schemas_are_namespaces_not_a_boundary(program_run) -> None:
    """The README says so: any mode reads another mode's tables when it qualifies them."""
    double, _ = program_run
    urls = _urls(double)
    dbchecks.assert_shared_role_reads_across_schemas(urls, {m: SCHEMAS[m] for m in urls})


def test_env_file_values_reach_the_same_place_as_the_url(program_run) -> None:
    import io

    import psycopg
    from dotenv import dotenv_values

    double, _ = program_run
    for mode, env_file in double.exports["envFiles"].items():
        env = dotenv_values(stream=io.StringIO(env_file["content"]))
        with psycopg.connect(
            host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"], dbname=env["POSTGRES_DB"],
            options=f"-csearch_path={env['HIVE_DB_SCHEMA']},extensions",
        ) as conn:  # fmt: skip
            by_keys = conn.execute("select current_database(), current_user, current_schema()").fetchone()
        by_url = (
            dbchecks.scalar(env["HIVE_DATABASE_URL"], "select current_database()"),
            dbchecks.scalar(env["HIVE_DATABASE_URL"], "select current_user"),
            dbchecks.scalar(env["HIVE_DATABASE_URL"], "select current_schema()"),
        )
        assert by_keys == by_url == ("hive", "hive", SCHEMAS[mode]), f"{mode}: POSTGRES_* and the URL agree"


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
    urls = _urls(double)
    assert len(urls) == 3, "every mode has a URL"
    for mode, url in urls.items():
        assert dbchecks.scalar(url, "select current_user") == "hive_special", f"{mode}: the odd password logs in"
    dbchecks.assert_libpq_and_psql_accept(urls, {m: SCHEMAS[m] for m in urls})
