"""``db dump`` and ``db restore`` of a stack's databases, on live PostgreSQL.

The program is materialised on the session's server through the provider
double; each mode's database then gets hive-like tables written through the
mode's URL, as the application writes them (``hive.*``, ``agno.*``,
``ai.agno_memories``, a column of the extension's type). The stack's outputs
come from a fake ``pulumi`` printing the double's exports; ``docker exec`` in
the shared container is a fake ``docker`` CLI running this machine's binaries
against the session's server.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import dbchecks
from tests.support.db_helpers import (
    STACK_CONTAINER,
    Contents,
    Stack,
    fake_cli,
    folders,
    materialise,
    old_client,
    run,
)
from tests.support.docker_fakes import FakeDockerCli
from tests.support.pgserver import PgServer

BASE = "hivedb"
ROWS = {"workspace": 210, "agent": 160, "genie": 120}


def write_app_data(url: str, mode: str) -> None:
    """Tables and rows as the application makes them, logged in through the mode's URL."""
    n = ROWS[mode]
    dbchecks.execute(
        url,
        "CREATE SCHEMA IF NOT EXISTS hive",
        "CREATE SCHEMA IF NOT EXISTS agno",
        "CREATE SCHEMA IF NOT EXISTS ai",
        "CREATE TABLE hive.component_versions (id serial PRIMARY KEY, component_id citext, version int, config jsonb)",
        f"INSERT INTO hive.component_versions (component_id, version, config) "
        f"SELECT '{mode}-Agent-' || g, g % 3, jsonb_build_object('n', g) FROM generate_series(1, {n}) g",
        "CREATE TABLE agno.knowledge_base (id bigserial PRIMARY KEY, name citext, content text)",
        f"INSERT INTO agno.knowledge_base (name, content) SELECT 'Doc ' || g, 'text ' || g "
        f"FROM generate_series(1, {n // 2}) g",
        "CREATE TABLE ai.agno_memories (memory_id text PRIMARY KEY, user_id citext, memory jsonb)",
        f"INSERT INTO ai.agno_memories SELECT 'm' || g, 'U' || (g % 4), '{{}}' FROM generate_series(1, {n // 3}) g",
        # unqualified: the mode's own schema (agent, genie), or public for workspace
        "CREATE TABLE local_notes (id int PRIMARY KEY, body text)",
        "INSERT INTO local_notes SELECT g, 'note ' || g FROM generate_series(1, 9) g",
    )


@dataclass
class Seeded:
    stack: Stack
    docker: FakeDockerCli
    contents: dict[str, Contents]


@pytest.fixture(scope="module")
def seeded(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    stack = materialise(pg_server, BASE, tmp_path_factory.mktemp("db-env"))
    for mode, url in stack.urls.items():
        write_app_data(url, mode)
    with fake_cli(tmp_path_factory.mktemp("db-bin"), stack, {STACK_CONTAINER: pg_server}) as docker:
        yield Seeded(stack, docker, stack.contents())


@pytest.fixture(scope="module")
def dumped(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("backups")
    result = run("db", "dump", "--out", str(out))
    assert result.code == 0, f"db dump succeeds:\n{result.err}"
    return Path(result.out.strip()), result.err


def test_dump_writes_a_private_folder_with_the_manifest_last(seeded: Seeded, dumped: tuple[Path, str]) -> None:
    folder, err = dumped
    assert folder.stat().st_mode & 0o777 == 0o700, "the folder is the user's only"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["agent-hivedb_agent.dump", "genie-hivedb_genie.dump", "manifest.json", "workspace-hivedb.dump"]
    assert all((folder / n).stat().st_mode & 0o777 == 0o600 for n in names), "every file 0600"
    text = (folder / "manifest.json").read_text()
    assert seeded.stack.password() not in text, "no password in the manifest"
    manifest = json.loads(text)
    assert manifest["isolation"] == "database" and manifest["source"] == "the selected stack"
    (agent,) = [d for d in manifest["dumps"] if d["modes"] == ["agent"]]
    counts = {f"{t['schema']}.{t['table']}": t["rows"] for t in agent["tables"]}
    assert counts == {
        "agent.local_notes": 9,
        "agno.knowledge_base": ROWS["agent"] // 2,
        "ai.agno_memories": ROWS["agent"] // 3,
        "hive.component_versions": ROWS["agent"],
    }, "exact, schema-qualified counts of every table"
    assert agent["server_major"] == 15 and len(agent["sha256"]) == 64, "server version and checksum"
    assert agent["tool"]["where"] == f"docker exec {STACK_CONTAINER}", "container mode: the container's pg_dump"
    assert f"(docker exec {STACK_CONTAINER})" in err and "pg_dump (PostgreSQL) 15." in err, "and it says so"
    assert seeded.docker.execs(STACK_CONTAINER, "pg_dump"), "pg_dump ran through docker exec"
    leaked = [argv for argv in seeded.docker.calls if any(seeded.stack.password() in a for a in argv)]
    assert not leaked, f"the role's password reaches docker exec by --env NAME only: {leaked}"


def test_restore_replace_round_trips(seeded: Seeded, dumped: tuple[Path, str]) -> None:
    folder, _ = dumped
    dbchecks.execute(
        seeded.stack.urls["agent"],
        "DELETE FROM hive.component_versions WHERE id % 2 = 0",
        "INSERT INTO ai.agno_memories VALUES ('junk', 'x', '{}')",
        "DROP TABLE local_notes",
    )
    assert seeded.stack.contents() != seeded.contents, "the agent database was changed after the dump"
    # An archive streamed out of docker exec (no data offsets), restored by the local pg_restore.
    result = run("db", "restore", str(folder), "--replace", "--tools", "local")
    assert result.code == 0, f"db restore --replace succeeds:\n{result.err}"
    assert seeded.stack.contents() == seeded.contents, "every mode's rows are exactly those of the dump again"
    assert "using pg_restore (PostgreSQL) 15" in result.err and "(local " in result.err, "it says which pg_restore"
    (left_out,) = [line for line in result.err.splitlines() if line.startswith("  agent (hivedb_agent): left out")]
    for entry in ("CREATE SCHEMA agent (the target has it)", "CREATE SCHEMA hive", "CREATE EXTENSION citext"):
        assert entry in left_out, f"it says which entries a non-superuser restore leaves out: {entry}"
    assert result.err.count("every count equal to the manifest's") == 3, "each archive's counts compared"


def test_restore_through_docker_exec_into_the_container(seeded: Seeded, dumped: tuple[Path, str]) -> None:
    folder, _ = dumped
    restores = len(seeded.docker.execs(STACK_CONTAINER, "pg_restore"))
    result = run("db", "restore", str(folder), "--replace", "--mode", "genie")
    assert result.code == 0, f"restore of one mode succeeds:\n{result.err}"
    assert len(seeded.docker.execs(STACK_CONTAINER, "pg_restore")) > restores, "pg_restore ran in the container"
    assert "agent" not in result.err.split("->", 1)[1], "only genie was restored"
    assert seeded.stack.contents() == seeded.contents, "and its rows are the dump's"


def test_a_target_with_tables_of_the_same_names_is_refused(seeded: Seeded, dumped: tuple[Path, str]) -> None:
    folder, _ = dumped
    result = run("db", "restore", str(folder))
    assert result.code == 2, f"refused (exit 2):\n{result.err}"
    for mode, n in (("workspace", 4), ("agent", 4), ("genie", 4)):
        database = BASE + {"workspace": "", "agent": "_agent", "genie": "_genie"}[mode]
        assert f"/{database} already holds {n} table(s) of the same names" in result.err, f"{mode}: named"
    assert "hive.component_versions" in result.err and "--replace" in result.err, "names tables, says how to go on"
    assert "db restore: nothing was changed" in result.err
    assert seeded.stack.contents() == seeded.contents, "nothing restored"


def test_a_damaged_archive_is_refused_before_anything_is_restored(
    seeded: Seeded, dumped: tuple[Path, str], tmp_path: Path
) -> None:
    folder = tmp_path / "damaged"
    shutil.copytree(dumped[0], folder)
    archive = folder / "genie-hivedb_genie.dump"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    dbchecks.execute(seeded.stack.urls["workspace"], "DELETE FROM local_notes WHERE id = 1")
    before, restores = seeded.stack.contents(), len(seeded.docker.execs(STACK_CONTAINER, "pg_restore"))
    result = run("db", "restore", str(folder), "--replace")
    assert result.code == 2, f"refused:\n{result.err}"
    assert "genie-hivedb_genie.dump: its sha256 differs from the manifest's" in result.err, "names the archive"
    assert len(seeded.docker.execs(STACK_CONTAINER, "pg_restore")) == restores, "pg_restore never ran"
    assert seeded.stack.contents() == before, "no mode was restored, not even the intact workspace"
    assert run("db", "restore", str(dumped[0]), "--replace", "--mode", "workspace").code == 0, "(put it back)"


def test_a_folder_without_manifest_is_an_incomplete_dump(dumped: tuple[Path, str], tmp_path: Path) -> None:
    folder = tmp_path / "incomplete"
    shutil.copytree(dumped[0], folder)
    (folder / "manifest.json").unlink()
    result = run("db", "restore", str(folder))
    assert result.code == 2 and "has no manifest.json, so it is an incomplete dump" in result.err, result.err


def test_a_count_that_differs_from_the_manifest_fails_loudly(
    seeded: Seeded, dumped: tuple[Path, str], tmp_path: Path
) -> None:
    folder = tmp_path / "miscounted"
    shutil.copytree(dumped[0], folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (genie,) = [d for d in manifest["dumps"] if d["modes"] == ["genie"]]
    (memories,) = [t for t in genie["tables"] if t["table"] == "agno_memories"]
    memories["rows"] += 1  # a manifest that promises a row the archive does not hold
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = run("db", "restore", str(folder), "--mode", "genie", "--replace")
    expected = ROWS["genie"] // 3
    assert result.code == 1, f"a failure after acting (exit 1):\n{result.err}"
    assert "db restore: error: the archive of genie (hivedb_genie) was restored into" in result.err, "loudly"
    assert f"ai.agno_memories: {expected + 1} in the manifest, {expected} in the database" in result.err, (
        "names the table and both counts"
    )


def test_a_client_older_than_the_server_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    bindir = old_client(tmp_path / "old-client", 14)
    out = tmp_path / "backups"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HIVE_PG_BINDIR", str(bindir))
        result = run("db", "dump", "--tools", "local", "--out", str(out))
    assert result.code == 2, f"refused:\n{result.err}"
    assert f"local {bindir}/pg_dump" in result.err and "is major 14" in result.err, "names the client and its major"
    assert "runs PostgreSQL 15: pg_dump must be at least the server's major" in result.err, "and the rule"
    assert folders(out) == [], "no folder written"
