"""``migrate --from-legacy``, ``db dump`` and ``db restore`` on live PostgreSQL.

Three throwaway "legacy" clusters, one per mode, each initialised with a
superuser named like the legacy generated user and seeded with hive-like data
(``hive.component_versions``, ``agno.*``, ``ai.agno_memories``, a mode schema,
columns of an extension's type with the extension in ``public``); the program
materialised on the session's server through the provider double; the stack's
outputs answered by a fake ``pulumi`` printing the double's exports; Docker
answered by a fake SDK client (legacy containers publishing the clusters'
ports) and a fake ``docker`` CLI whose ``exec`` runs this machine's binaries
against the server a container name stands for. Nothing is mocked between the
commands and PostgreSQL: pg_dump, pg_restore and psycopg do the real work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hive_infra.core.errors import CommandError
from hive_infra.machine.stack_reader import PULUMI_ENV
from hive_infra.pg import catalog
from hive_infra.pg.dump import Source, dump_sources
from hive_infra.pg.endpoint import Endpoint
from hive_infra.pg.tools import LocalTools
from tests.support import dbchecks
from tests.support.db_helpers import (
    MODE_SUFFIX,
    STACK_CONTAINER,
    Contents,
    Result,
    Stack,
    contents,
    fake_cli,
    folders,
    materialise,
    old_client,
    run,
)
from tests.support.docker_fakes import FakeContainer, FakeDockerCli, FakeDockerClient, published
from tests.support.fake_pulumi import make_fake_pulumi
from tests.support.pgserver import PgServer, ThrowawayPostgres, free_port

LEGACY_USER = "Hq3xTu8kLm2Np5Rs"  # the legacy installer generated 16 alphanumerics, mixed case
LEGACY_PASSWORD = "Lg7pW2xQ9rT4vY6z"
LEGACY_DATABASES = {"workspace": "hive", "agent": "hive_agent", "genie": "hive_genie"}
LEGACY_CONTAINERS = {"workspace": "hive-postgres", "agent": "hive-postgres-agent", "genie": "hive-postgres-genie"}
ENV_FILES = {"workspace": ".env", "agent": ".env.agent", "genie": ".env.genie"}
#: Rows of hive.component_versions per mode; the other tables hold fractions of it.
ROWS = {"workspace": 300, "agent": 240, "genie": 180}
STACK_BASE = "hivemig"  # the stack's own names: apart from every other module's on the session server


# --- the legacy install -----------------------------------------------------------------------


def seed(server: PgServer, mode: str) -> None:
    database, n = LEGACY_DATABASES[mode], ROWS[mode]
    with server.connect() as conn:
        conn.execute(f"CREATE DATABASE {database}")  # owned by the legacy superuser, as the legacy compose made it
    with server.connect(database=database) as conn:
        conn.execute("CREATE EXTENSION citext WITH SCHEMA public")
        for schema in ("hive", "agno", "ai", mode if mode != "workspace" else "hive"):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        conn.execute(
            "CREATE TABLE hive.component_versions (id serial PRIMARY KEY, component_id public.citext NOT NULL, "
            "component_type text, version int, config jsonb, created_at timestamptz DEFAULT now())"
        )
        conn.execute(
            "INSERT INTO hive.component_versions (component_id, component_type, version, config) "
            "SELECT %s || '-Component-' || g, 'agent', g %% 7, jsonb_build_object('mode', %s::text, 'n', g) "
            "FROM generate_series(1, %s) g",
            (mode, mode, n),
        )
        conn.execute(
            "CREATE TABLE agno.knowledge_base (id bigserial PRIMARY KEY, name public.citext, content text, meta jsonb)"
        )
        conn.execute(
            "INSERT INTO agno.knowledge_base (name, content, meta) "
            "SELECT 'Doc-' || g, repeat(%s, 3) || g, '{\"lang\": \"en\"}' FROM generate_series(1, %s) g",
            (mode, n // 2),
        )
        conn.execute("CREATE TABLE agno.contents (id text PRIMARY KEY, knowledge_id bigint, body text)")
        conn.execute(
            "INSERT INTO agno.contents SELECT 'c' || g, g, %s || ' body ' || g FROM generate_series(1, %s) g",
            (mode, n // 3),
        )
        conn.execute(
            "CREATE TABLE ai.agno_memories (memory_id text PRIMARY KEY, user_id public.citext, memory jsonb, "
            "updated_at bigint)"
        )
        conn.execute(
            "INSERT INTO ai.agno_memories SELECT %s || '-m' || g, 'User' || (g %% 5), "
            "jsonb_build_object('memory', %s || ' remembers ' || g), g FROM generate_series(1, %s) g",
            (mode, mode, n // 4),
        )
        conn.execute(f"CREATE TABLE ai.{mode}_sessions (session_id text PRIMARY KEY, session_data jsonb)")
        conn.execute(f"INSERT INTO ai.{mode}_sessions SELECT 's' || g, '{{}}' FROM generate_series(1, %s) g", (n // 5,))
        if mode != "workspace":  # the legacy agent/genie URLs searched their mode's schema
            conn.execute(f"CREATE TABLE {mode}.notes (id int PRIMARY KEY, note public.citext)")
            conn.execute(f"INSERT INTO {mode}.notes SELECT g, 'Note ' || g FROM generate_series(1, 12) g")


@dataclass
class Legacy:
    servers: dict[str, PgServer]

    def contents(self) -> dict[str, Contents]:
        """Read as the legacy superuser, with no help from the code under test."""
        return {mode: contents(s.url(database=LEGACY_DATABASES[mode])) for mode, s in self.servers.items()}

    def url(self, mode: str, *, database: str | None = None, port: int | None = None) -> str:
        server = self.servers[mode]
        db = database or LEGACY_DATABASES[mode]
        query = f"?options=-csearch_path%3D{mode}" if mode != "workspace" else ""
        return f"postgresql+psycopg://{LEGACY_USER}:{LEGACY_PASSWORD}@localhost:{port or server.port}/{db}{query}"

    def env_files(self, folder: Path, **overrides: str) -> list[str]:
        """The legacy .env files (one per mode); ``overrides`` replaces a mode's URL."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for mode, name in ENV_FILES.items():
            path = folder / name
            url = overrides.get(mode, self.url(mode))
            prefix = "hive_" if mode == "workspace" else f"hive_{mode}_"
            path.write_text(
                f"HIVE_DATABASE_URL={url}\nHIVE_API_KEY={prefix}{'k' * 43}\nOPENAI_API_KEY=sk-user-own-key\n"
            )
            paths.append(str(path))
        return paths

    def docker_client(self) -> FakeDockerClient:
        return FakeDockerClient(
            [FakeContainer(LEGACY_CONTAINERS[m], "running", published(s.port)) for m, s in self.servers.items()]
        )


@pytest.fixture(scope="module")
def legacy(pg_server: PgServer) -> Iterator[Legacy]:
    clusters = [ThrowawayPostgres(password=LEGACY_PASSWORD, superuser=LEGACY_USER) for _ in LEGACY_DATABASES]
    try:
        servers = {mode: cluster.start() for mode, cluster in zip(LEGACY_DATABASES, clusters, strict=True)}
        for mode, server in servers.items():
            seed(server, mode)
        yield Legacy(servers)
    finally:
        for cluster in clusters:
            cluster.stop()


# --- the stack and the tools around it -----------------------------------------------------------


@pytest.fixture(scope="module")
def stack(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    stack = materialise(pg_server, STACK_BASE, tmp_path_factory.mktemp("migrate-env"))
    assert stack.exports["postgres"]["mode"] == "container", "the default stack runs its own container"
    return stack


@pytest.fixture(scope="module")
def docker_cli(
    legacy: Legacy, stack: Stack, pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeDockerCli]:
    containers = {LEGACY_CONTAINERS[m]: s for m, s in legacy.servers.items()} | {STACK_CONTAINER: pg_server}
    with fake_cli(tmp_path_factory.mktemp("migrate-bin"), stack, containers) as docker:
        yield docker


def env_args(files: list[str]) -> list[str]:
    return [a for f in files for a in ("--env-file", f)]


# --- the migration --------------------------------------------------------------------------------


@dataclass
class Migrated:
    plan: Result
    plan_folders: list[str]
    plan_stack: dict[str, Contents]
    result: Result
    folder: Path
    before: dict[str, Contents]
    after: dict[str, Contents]


@pytest.fixture(scope="module")
def migrated(
    legacy: Legacy, stack: Stack, docker_cli: FakeDockerCli, tmp_path_factory: pytest.TempPathFactory
) -> Migrated:
    env_files = legacy.env_files(tmp_path_factory.mktemp("legacy-install"))
    out = tmp_path_factory.mktemp("backups")
    args = ["migrate", "--from-legacy", *env_args(env_files), "--out", str(out)]
    before = legacy.contents()
    plan = run(*args, docker=legacy.docker_client())
    plan_folders, plan_stack = folders(out), stack.contents()
    result = run(*args, "--yes", docker=legacy.docker_client())
    assert result.code == 0, f"migrate --yes succeeds:\n{result.err}"
    (name,) = folders(out)
    return Migrated(plan, plan_folders, plan_stack, result, out / name, before, legacy.contents())


def test_the_plan_names_each_source_and_target_and_changes_nothing(migrated: Migrated) -> None:
    plan = migrated.plan
    assert plan.code == 0, f"printing the plan is not a failure:\n{plan.err}"
    for mode, db in LEGACY_DATABASES.items():
        lines = [line for line in plan.err.splitlines() if line.startswith(f"  {mode}: {LEGACY_USER}@localhost:")]
        assert len(lines) == 1, f"one plan line for {mode}, naming its source server:\n{plan.err}"
        tables = 5 if mode == "workspace" else 6
        assert f"/{db} (" in lines[0] and f"-> {STACK_BASE}{MODE_SUFFIX[mode]}: {tables} tables" in lines[0], (
            f"{mode}: source database -> the stack's database, with its table count: {lines[0]}"
        )
        assert f"container {LEGACY_CONTAINERS[mode]}" in lines[0], "the legacy container found through Docker"
    assert "nothing done. Run again with --yes" in plan.err, "without --yes it only plans"
    assert migrated.plan_folders == [], "without --yes no dump folder is written"
    assert all(not tables for tables in migrated.plan_stack.values()), (
        f"without --yes the stack's databases stay empty: {migrated.plan_stack}"
    )


def test_every_row_arrives_in_its_modes_database(migrated: Migrated, stack: Stack) -> None:
    arrived = stack.contents()
    for mode in LEGACY_DATABASES:
        assert arrived[mode] == migrated.before[mode], (
            f"{mode}: every table of the legacy database, with the same rows (count and md5 of the rows), and "
            "nothing else, reads back through the mode's URL from the stack's outputs, as the app role"
        )
    total = sum(n for tables in arrived.values() for n, _ in tables.values())
    assert total == sum(n for tables in migrated.before.values() for n, _ in tables.values()) > 1600, total
    agent = stack.urls["agent"]  # SQLAlchemy, as the application connects
    matched = dbchecks.scalar(
        agent, "select count(*) from hive.component_versions where component_id = 'AGENT-COMPONENT-7'"
    )
    assert matched == 1, "the extension's type (public.citext) works in the restored column: case-insensitive"
    assert dbchecks.scalar(agent, "select count(*) from notes") == 12, (
        "the agent URL's search_path finds the legacy agent schema's table, unqualified"
    )


def test_restored_objects_belong_to_the_app_role(migrated: Migrated, stack: Stack) -> None:
    for mode, url in stack.urls.items():
        owners = dbchecks.scalar(
            url,
            "select string_agg(distinct pg_get_userbyid(c.relowner), ',') from pg_class c join pg_namespace n "
            "on n.oid = c.relnamespace where n.nspname in ('hive', 'agno', 'ai', 'agent', 'genie', 'public') "
            "and c.relkind in ('r', 'S')",
        )
        assert owners == STACK_BASE, (
            f"{mode}: --no-owner, logged in as the app role: every restored table and sequence is the role's, "
            f"none the legacy user's: {owners}"
        )
        schema_owner = dbchecks.scalar(url, "select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'hive'")
        assert schema_owner == STACK_BASE, f"{mode}: the restored schemas are the role's too"
        ext_owner = dbchecks.scalar(url, "select pg_get_userbyid(extowner) from pg_extension where extname = 'citext'")
        assert ext_owner != STACK_BASE, f"{mode}: the stack's extension stays as its admin made it"


def test_the_legacy_databases_are_unchanged(migrated: Migrated) -> None:
    assert migrated.after == migrated.before, (
        "migrate only reads the legacy databases: every table's count and rows are as before"
    )
    assert "the legacy databases are unchanged" in migrated.result.err, "migrate checks it too, and says so"


def test_the_dump_folder_is_private_complete_and_secret_free(migrated: Migrated, stack: Stack) -> None:
    folder = migrated.folder
    assert folder.stat().st_mode & 0o777 == 0o700, "the dump folder is the user's only"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["agent-hive_agent.dump", "genie-hive_genie.dump", "manifest.json", "workspace-hive.dump"]
    assert all((folder / n).stat().st_mode & 0o777 == 0o600 for n in names), "every file 0600"
    text = (folder / "manifest.json").read_text()
    assert LEGACY_PASSWORD not in text and stack.password() not in text, "no password in the manifest"
    manifest = json.loads(text)
    assert manifest["source"] == "legacy install"
    (agent,) = [d for d in manifest["dumps"] if d["modes"] == ["agent"]]
    counts = {f"{t['schema']}.{t['table']}": t["rows"] for t in agent["tables"]}
    assert counts["hive.component_versions"] == ROWS["agent"], "exact per-table counts, schema-qualified"
    assert [x["name"] + "@" + x["schema"] for x in agent["extensions"]] == ["citext@public"], "the extension"
    assert agent["server_major"] == 15 and agent["tool"]["where"] == "docker exec hive-postgres-agent", (
        "the server's version, and the pg_dump used: the legacy container's own"
    )


def test_pg_tools_ran_in_the_containers_and_no_password_in_any_argv(
    migrated: Migrated, docker_cli: FakeDockerCli, stack: Stack
) -> None:
    for mode, container in LEGACY_CONTAINERS.items():
        assert docker_cli.execs(container, "pg_dump"), f"{mode}: pg_dump ran inside {container} (docker exec)"
        assert not docker_cli.execs(container, "pg_restore"), f"{mode}: nothing is restored into a legacy container"
    assert len(docker_cli.execs(STACK_CONTAINER, "pg_restore")) >= 3, "pg_restore ran inside the shared container"
    secrets = (LEGACY_PASSWORD, stack.password())
    leaked = [argv for argv in docker_cli.calls if any(s in a for s in secrets for a in argv)]
    assert not leaked, f"passwords travel in the environment (docker exec --env NAME), never in argv: {leaked}"
    err = migrated.result.err
    assert "using pg_restore (PostgreSQL) 15" in err and f"(docker exec {STACK_CONTAINER})" in err, (
        "it says which pg_restore it used"
    )


def test_a_second_migrate_without_replace_refuses_and_changes_nothing(
    migrated: Migrated, legacy: Legacy, stack: Stack, tmp_path: Path
) -> None:
    before = stack.contents()
    out = tmp_path / "backups"
    args = ["migrate", "--from-legacy", *env_args(legacy.env_files(tmp_path / "install")), "--out", str(out)]
    again = run(*args, "--yes", docker=legacy.docker_client())
    assert again.code == 2, f"refused (exit 2):\n{again.err}"
    assert f"/{STACK_BASE} already holds 5 table(s) of the same names" in again.err, "names the target"
    assert "hive.component_versions" in again.err, "and the clashing tables"
    assert "--replace" in again.err and "migrate: nothing was changed" in again.err, "and says how to go on"
    assert folders(out) == [], "refused before dumping: no folder"
    assert stack.contents() == before, "the stack's databases are untouched"
    replaced = run(*args, "--yes", "--replace", "--mode", "genie", docker=legacy.docker_client())
    assert replaced.code == 0, f"with --replace (one mode) it goes ahead:\n{replaced.err}"
    assert stack.contents() == before, "and restores the same rows again"


# --- refusals: each with a clear message, nothing half-written --------------------------------------


def test_an_unreachable_legacy_server_is_named_and_nothing_is_dumped(
    legacy: Legacy, docker_cli: FakeDockerCli, tmp_path: Path
) -> None:
    closed = free_port()
    install = tmp_path / "install"
    env_files = legacy.env_files(install, genie=legacy.url("genie", port=closed))
    out = tmp_path / "backups"
    no_docker = FakeDockerClient([], ping_error=OSError("connection refused"))
    result = run("migrate", "--from-legacy", *env_args(env_files), "--out", str(out), "--yes", docker=no_docker)
    assert result.code == 2, f"refused:\n{result.err}"
    expected = f"genie: the legacy server ({install}/.env.genie) cannot be read: cannot connect to {LEGACY_USER}@"
    assert f"{expected}localhost:{closed}/hive_genie" in result.err, f"names the mode and the address:\n{result.err}"
    assert "docker start hive-postgres-genie" in result.err, "and how to go on"
    assert "no reachable Docker engine" in result.err, "says Docker did not answer"
    assert folders(out) == [], "nothing dumped: every server is checked first"


def test_a_client_older_than_the_legacy_server_is_refused(
    legacy: Legacy, docker_cli: FakeDockerCli, tmp_path: Path
) -> None:
    bindir = old_client(tmp_path / "old-client", 14)
    out = tmp_path / "backups"
    env_files = legacy.env_files(tmp_path / "install")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HIVE_PG_BINDIR", str(bindir))
        result = run(
            "migrate", "--from-legacy", *env_args(env_files), "--dump-only", "--tools", "local", "--out", str(out),
            "--yes", docker=legacy.docker_client(),
        )  # fmt: skip
    assert result.code == 2, f"refused:\n{result.err}"
    assert f"pg_dump (PostgreSQL) 14.11 (local {bindir}/pg_dump) is major 14" in result.err, "names the client"
    assert "runs PostgreSQL 15: pg_dump must be at least the server's major" in result.err, "and the rule"
    assert folders(out) == [], "no folder written"


def test_the_seed_shared_database_moves_to_workspace_only(
    legacy: Legacy, docker_cli: FakeDockerCli, tmp_path: Path
) -> None:
    shared = legacy.url("workspace")  # agent and genie named the workspace's database: the seed's layout
    env_files = legacy.env_files(tmp_path / "install", agent=shared, genie=shared)
    no_docker = FakeDockerClient([], ping_error=OSError("no docker"))
    result = run(
        "migrate", "--from-legacy", *env_args(env_files), "--out", str(tmp_path / "b"), "--dump-only", "--yes",
        docker=no_docker,
    )  # fmt: skip
    assert result.code == 0, f"a dump-only migrate needs no stack:\n{result.err}"
    assert "the seed's layout" in result.err and "it moves to mode workspace only" in result.err, "says so"
    folder = Path(result.out.strip())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [d["modes"] for d in manifest["dumps"]] == [["workspace"]], "one archive, for workspace only"
    assert manifest["dumps"][0]["tool"]["where"].startswith("local "), "no Docker: the local pg_dump"
    assert sorted(os.listdir(folder)) == ["manifest.json", "workspace-hive.dump"], "no agent or genie archive"
    assert "db restore" in result.err, "it says how to finish: db restore once the stack is up"


def test_a_legacy_database_written_to_during_the_dump_is_refused(legacy: Legacy, tmp_path: Path) -> None:
    server = legacy.servers["genie"]
    with server.connect() as conn:
        conn.execute("CREATE DATABASE scratch")
    with server.connect(database="scratch") as conn:
        conn.execute("CREATE TABLE busy (id int); INSERT INTO busy VALUES (1)")

    class WritingMeanwhile(LocalTools):
        """pg_dump, while the legacy application goes on writing."""

        def dump(self, source: Endpoint, out: Any, snapshot: str | None) -> None:
            super().dump(source, out, snapshot)
            with server.connect(database="scratch") as conn:
                conn.execute("INSERT INTO busy VALUES (2)")

    endpoint = Endpoint(server.host, server.port, LEGACY_USER, LEGACY_PASSWORD, "scratch", read_only=True)
    lines: list[str] = []
    with pytest.raises(CommandError) as refused:
        dump_sources(
            [Source(("genie",), endpoint, WritingMeanwhile())], tmp_path, label="legacy",
            manifest_source="legacy install", isolation=None, say=lines.append, require_unchanged=True,
        )  # fmt: skip
    assert "changed while it was dumped (public.busy (1 -> 2))" in str(refused.value), "names the table that moved"
    assert "Stop the legacy API containers" in str(refused.value), "and what to do"
    assert folders(tmp_path) == [], "the half-made folder is removed"


def test_sessions_on_a_legacy_server_are_read_only(legacy: Legacy) -> None:
    server = legacy.servers["workspace"]
    endpoint = Endpoint(server.host, server.port, LEGACY_USER, LEGACY_PASSWORD, "hive", read_only=True)
    with pytest.raises(CommandError, match="read-only transaction"), catalog.connect(endpoint) as conn:
        conn.execute("CREATE TABLE hive.written_by_migrate (id int)")


def test_a_legacy_database_that_is_the_stacks_own_stays_in_place(
    legacy: Legacy, stack: Stack, docker_cli: FakeDockerCli, tmp_path: Path
) -> None:
    # An adopted data folder (hive:dataPath): the workspace .env names the stack's own server and database.
    env_files = legacy.env_files(tmp_path / "install", workspace=stack.urls["workspace"])
    out = tmp_path / "b"
    result = run(
        "migrate", "--from-legacy", "--env-file", env_files[0], "--out", str(out), "--yes",
        docker=FakeDockerClient([]),
    )  # fmt: skip
    assert result.code == 0, f"nothing to do is no failure:\n{result.err}"
    assert "is the stack's own database already" in result.err and "nothing to move" in result.err, "says so"
    assert folders(out) == [], "and dumps nothing"


def test_a_schema_isolation_stack_is_refused_before_anything(
    legacy: Legacy, pg_server: PgServer, tmp_path: Path
) -> None:
    one = materialise(pg_server, STACK_BASE + "_one", tmp_path / "env", isolation="schema")
    pulumi = make_fake_pulumi(tmp_path / "bin", one.exports)
    out = tmp_path / "b"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PULUMI_ENV, str(pulumi.path))
        result = run(
            "migrate", "--from-legacy", *env_args(legacy.env_files(tmp_path / "install")), "--out", str(out),
            "--yes", "--tools", "local", docker=FakeDockerClient([]),
        )  # fmt: skip
    assert result.code == 2, f"refused:\n{result.err}"
    assert "has citext in schema extensions, where those names do not resolve" in result.err, (
        "the legacy tables name public.citext; with isolation=schema the extension lives in `extensions`"
    )
    assert f"legacy workspace and legacy agent both go into database {STACK_BASE}_one" in result.err, (
        "three legacy databases would overwrite each other's hive.* tables in the one database"
    )
    assert folders(out) == [] and all(not t for t in one.contents().values()), "nothing written"
