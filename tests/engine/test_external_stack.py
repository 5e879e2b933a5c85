"""The whole life of a stack under the real Pulumi engine, in external mode
against the session's throwaway PostgreSQL (no Docker needed):

init and preview with only the keys external mode needs, up, everything checked
from outside, a no-op up, a refused isolation change, a config change (a mode
dropped, the API port moved), refresh, a hand edit repaired by up, destroy,
stack rm; then a stack that drops its objects on destroy. The tests run in
order and build on each other (one stack's life); each names what it checks.
"""

from __future__ import annotations

import io
import json
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dotenv import dotenv_values
from sqlalchemy.engine import make_url

from tests.support import dbchecks
from tests.support.engine import Engine, external_config
from tests.support.pgserver import PgServer

STACK = "ext"
BASE = "eng"  # databases eng, eng_agent, eng_genie: apart from the other tiers' on the shared server
ROLE = "eng_app"
USER_LINE = "MY_MODEL_KEY=sk-mine-not-the-stacks\n"


@dataclass
class Life:
    engine: Engine
    server: PgServer
    env_dir: Path


@pytest.fixture(scope="module")
def life(pulumi_bin: Path, pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    root = tmp_path_factory.mktemp("engine")
    engine = Engine(pulumi_bin, root)
    env_dir = root / "env"
    env_dir.mkdir()
    (env_dir / ".env").write_text(USER_LINE)  # a user's own file, before the stack exists
    yield Life(engine, pg_server, env_dir)


def query(server: PgServer, sql: str, database: str = "postgres") -> list[tuple[Any, ...]]:
    with server.connect(database=database) as conn:
        return list(conn.execute(sql).fetchall())


def env_values(path: Path) -> dict[str, str | None]:
    return dict(dotenv_values(path))


def test_init_and_preview_with_only_the_external_keys(life: Life) -> None:
    life.engine.init_stack(
        STACK,
        external_config(life.server, life.env_dir, BASE, ROLE),
        secrets={"adminPassword": life.server.password},
    )
    preview = life.engine.run("preview", "--stack", STACK)
    assert re.search(r"\+ \d+ to create", preview.stdout), f"a first preview plans the stack:\n{preview.stdout}"
    assert not list(life.env_dir.glob(".env.*")), "preview writes no file"
    assert (life.env_dir / ".env").read_text() == USER_LINE, "and leaves the user's file alone"


def test_up_creates_what_the_readme_says(life: Life) -> None:
    life.engine.run("up", "--yes", "--stack", STACK)
    server = life.server
    role = query(
        server, f"select rolsuper, rolcanlogin, rolcreatedb, rolcreaterole from pg_roles where rolname = '{ROLE}'"
    )
    assert role == [(False, True, False, False)], "one login role, no cluster powers"
    owners = dict(
        query(server, f"select datname, pg_get_userbyid(datdba) from pg_database where datname like '{BASE}%'")
    )
    assert owners == {BASE: ROLE, f"{BASE}_agent": ROLE, f"{BASE}_genie": ROLE}, "a database per mode, the role's"
    for mode in ("agent", "genie"):
        schemas = query(server, f"select pg_get_userbyid(nspowner) from pg_namespace where nspname = '{mode}'",
                        f"{BASE}_{mode}")  # fmt: skip
        assert schemas == [(ROLE,)], f"{mode}'s schema in its own database, owned by the role"
    for database in owners:
        ext = query(server, "select extnamespace::regnamespace::text from pg_extension where extname = 'citext'",
                     database)  # fmt: skip
        assert ext == [("public",)], f"{database}: the extension in public, where legacy dumps expect it"


def test_the_env_files_hold_the_exported_values_and_keep_the_users_line(life: Life) -> None:
    exported = life.engine.outputs(STACK, secrets=True)["envFiles"]
    for mode, name in (("workspace", ".env"), ("agent", ".env.agent"), ("genie", ".env.genie")):
        path = life.env_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{name}: it holds secrets, mode 0600"
        want = dotenv_values(stream=io.StringIO(exported[mode]["content"]))
        have = env_values(path)
        assert {k: have.get(k) for k in want} == dict(want), f"{name}: every exported value is on disk"
    assert (life.env_dir / ".env").read_text().startswith(USER_LINE), "the user's own line, byte for byte, first"


def test_every_url_logs_in_to_its_own_database(life: Life) -> None:
    urls = life.engine.outputs(STACK, secrets=True)["databaseUrls"]
    for mode, url in urls.items():
        parsed = make_url(url)
        with psycopg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
            dbname=parsed.database, options=parsed.query.get("options", ""),
        ) as conn:  # fmt: skip
            got = conn.execute("select current_user, current_database(), current_schema()").fetchone()
        expected_db = BASE if mode == "workspace" else f"{BASE}_{mode}"
        expected_schema = "public" if mode == "workspace" else mode
        assert got == (ROLE, expected_db, expected_schema), f"{mode}: its URL reaches its database and schema"


def test_secrets_are_encrypted_in_the_state(life: Life) -> None:
    outputs = life.engine.outputs(STACK, secrets=True)
    secrets = {life.server.password, *outputs["apiKeys"].values()}
    secrets |= {make_url(url).password for url in outputs["databaseUrls"].values()}
    state = life.engine.state_text()
    assert state, "the file backend stored the stack"
    for secret in secrets:
        assert secret and secret not in state, "no password or API key in the state, its history or backups"
    plain = life.engine.outputs(STACK)
    assert plain["databaseUrls"] == "[secret]" and plain["envFiles"] == "[secret]", "secret outputs stay masked"


def test_a_second_up_changes_nothing(life: Life) -> None:
    result = life.engine.run("up", "--yes", "--expect-no-changes", "--stack", STACK, check=False)
    assert result.code == 0, f"no diff from postgresql, random, EnvFile or StackLayout:\n{result.output[-3000:]}"


def test_a_change_of_isolation_is_refused_before_anything_happens(life: Life) -> None:
    engine = life.engine
    engine.run("config", "set", "--stack", STACK, "hive:isolation", "schema")
    try:
        result = engine.run("preview", "--stack", STACK, check=False)
    finally:
        engine.run("config", "rm", "--stack", STACK, "hive:isolation")
    assert result.code != 0, "the layout change is refused"
    assert "this stack was deployed with 'database'" in result.output, "saying why, naming the old layout"
    assert "hive:allowIsolationChange" in result.output, "and the way to go on"


def test_dropping_a_mode_and_moving_the_api_port(life: Life) -> None:
    engine = life.engine
    engine.run("config", "set", "--path", "--stack", STACK, "hive:modes[0]", "workspace")
    engine.run("config", "set", "--path", "--stack", STACK, "hive:modes[1]", "agent")
    engine.run("config", "set", "--stack", STACK, "hive:apiPort", "9886")
    steps = engine.preview_steps(STACK)
    assert "replace" not in steps.values() and "create-replacement" not in steps.values(), f"nothing replaced: {steps}"
    deleted = {name for name, op in steps.items() if op == "delete"}
    assert deleted and all("genie" in name for name in deleted), f"only genie's resources go: {steps}"
    assert {steps.get("hive-envfile-workspace"), steps.get("hive-envfile-agent")} == {"update"}, (
        f"the other modes' .env files are updated in place: {steps}"
    )
    engine.run("up", "--yes", "--stack", STACK)
    assert not (life.env_dir / ".env.genie").exists(), "genie's file held only the stack's keys: deleted"
    assert env_values(life.env_dir / ".env.agent")["HIVE_API_PORT"] == "39886", "the port function's new port"
    assert query(life.server, f"select 1 from pg_database where datname = '{BASE}_genie'") == [(1,)], (
        "a mode's database is never dropped because the config stopped naming it: its rows stay"
    )


def test_refresh_finds_no_drift(life: Life) -> None:
    result = life.engine.run("refresh", "--yes", "--expect-no-changes", "--stack", STACK, check=False)
    assert result.code == 0, f"what the providers read back is what they wrote:\n{result.output[-3000:]}"


def test_a_hand_edit_is_repaired_by_the_next_up(life: Life) -> None:
    path = life.env_dir / ".env.agent"
    right = env_values(path)["POSTGRES_PASSWORD"]
    path.write_text(path.read_text().replace(f"POSTGRES_PASSWORD={right}", "POSTGRES_PASSWORD=edited-by-hand"))
    drift = life.engine.run("preview", "--expect-no-changes", "--stack", STACK, check=False)
    assert drift.code != 0, "preview sees the edit without a refresh"
    life.engine.run("up", "--yes", "--stack", STACK)
    assert env_values(path)["POSTGRES_PASSWORD"] == right, "up puts the stack's value back"


def test_destroy_leaves_the_users_lines_and_the_data(life: Life) -> None:
    engine = life.engine
    engine.run("destroy", "--yes", "--stack", STACK)
    assert (life.env_dir / ".env").read_text() == USER_LINE, "only the stack's keys left the user's file"
    assert not (life.env_dir / ".env.agent").exists(), "a file holding only the stack's keys is deleted"
    databases = {row[0] for row in query(life.server, f"select datname from pg_database where datname like '{BASE}%'")}
    assert databases == {BASE, f"{BASE}_agent", f"{BASE}_genie"}, "external mode leaves the databases by default"
    engine.run("stack", "rm", "--yes", "--stack", STACK)
    stacks = engine.run("stack", "ls", "--json").json()
    assert stacks == [], "stack rm leaves no stack in the backend"


def write_rows(url: str, table: str, rows: int) -> None:
    dbchecks.execute(
        url,
        f"create table {table} (id int primary key, body text)",
        f"insert into {table} select g, 'row ' || g from generate_series(1, {rows}) g",
    )


def count_rows(url: str, table: str) -> int:
    return int(str(dbchecks.scalar(url, f"select count(*) from {table}")))


DROP_ROWS = {"workspace": 120, "agent": 80, "genie": 40}


def test_drop_schemas_on_destroy_backs_up_then_drops_every_object(life: Life, tmp_path: Path) -> None:
    """The backup before the delete, under the real engine: a destroy that drops the databases
    dumps them first (the DataBackup's delete runs before any other), a failed dump stops it with
    nothing dropped, and the folder it wrote restores every row into the stack made again."""
    engine, server = life.engine, life.server
    base, role = "engdrop", "engdrop_app"
    config = {**external_config(server, tmp_path, base, role), "dropSchemasOnDestroy": "true"}
    engine.init_stack("drop", config, secrets={"adminPassword": server.password})
    engine.run("up", "--yes", "--stack", "drop")
    assert len(query(server, f"select 1 from pg_database where datname like '{base}%'")) == 3, "three databases"
    urls = engine.outputs("drop", secrets=True)["databaseUrls"]
    for mode, rows in DROP_ROWS.items():
        write_rows(urls[mode], "notes", rows)

    # Removing a mode would drop its database (the objects are not retained): refused.
    engine.run("config", "set", "--path", "--stack", "drop", "hive:modes[0]", "workspace")
    engine.run("config", "set", "--path", "--stack", "drop", "hive:modes[1]", "agent")
    refused_removal = engine.run("up", "--yes", "--stack", "drop", check=False)
    engine.run("config", "rm", "--stack", "drop", "hive:modes")
    assert refused_removal.code != 0 and "genie (engdrop_genie)" in refused_removal.output, (
        f"the up that would drop genie's database is refused, naming it:\n{refused_removal.failure_text()}"
    )
    assert count_rows(urls["genie"], "notes") == DROP_ROWS["genie"], "genie's rows are still there"

    # A dump that cannot be written stops the destroy before anything is dropped.
    backups = engine.program / "backups"
    backups.write_text("a file where the backups folder goes\n")
    refused = engine.run("destroy", "--yes", "--stack", "drop", check=False)
    assert refused.code != 0, f"the destroy fails with its backup:\n{refused.output[-3000:]}"
    assert "the backup before the destroy failed" in refused.output and "no data was deleted" in refused.output, (
        f"and says why, and that the data is still there:\n{refused.failure_text()}"
    )
    assert "hive:backupOnDestroy false" in refused.output, "and how to go on without a backup"
    for mode, rows in DROP_ROWS.items():
        assert count_rows(urls[mode], "notes") == rows, f"{mode}: every row is still in its database"
    assert len(engine.run("stack", "export", "--stack", "drop").json()["deployment"]["resources"]) > 20, (
        "the stack still holds its resources: only the guard before the backup was deleted"
    )
    backups.unlink()

    done = engine.run("destroy", "--yes", "--stack", "drop")
    assert query(server, f"select datname from pg_database where datname like '{base}%'") == [], "dropped"
    assert query(server, f"select 1 from pg_roles where rolname = '{role}'") == [], "and the role"
    (folder,) = backups.iterdir()
    assert folder.name.startswith("hive-drop-") and stat.S_IMODE(folder.stat().st_mode) == 0o700, (
        "one new private folder per destroy, named after the stack"
    )
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700, "the backups folder it made is private too"
    assert str(folder) in done.output or folder.name in done.output, (
        f"the destroy's output names the folder:\n{done.output[-3000:]}"
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    tables = {tuple(d["modes"]): {t["table"]: t["rows"] for t in d["tables"]} for d in manifest["dumps"]}
    assert tables == {(m,): {"notes": rows} for m, rows in DROP_ROWS.items()}, (
        f"the manifest counts every mode's rows as they were: {tables}"
    )

    engine.run("up", "--yes", "--stack", "drop")
    restored = engine.hive("db", "restore", str(folder), "--stack", "drop")
    urls = engine.outputs("drop", secrets=True)["databaseUrls"]
    for mode, rows in DROP_ROWS.items():
        assert count_rows(urls[mode], "notes") == rows, f"{mode}: every row is back:\n{restored.output[-2000:]}"
    engine.run("destroy", "--yes", "--stack", "drop")
    assert len(list(backups.iterdir())) == 2, "each destroy keeps its own folder; none is pruned"
    engine.run("stack", "rm", "--yes", "--stack", "drop")
