"""A legacy install moved into the default stack on a real Docker engine, through the README's steps.

The legacy install is made as the legacy compose files made it: three PostgreSQL
containers with the legacy names and ports (``hive-postgres`` 5532,
``hive-postgres-agent`` 35532, ``hive-postgres-genie`` 48532), each initialised with
the generated user as its superuser, its data bind-mounted from its own folder, its
own database and ``.env`` file; tables in ``hive.*``, ``agno.*``, ``ai.*``, the mode's
schema and ``public``, a ``vector`` column. Their image is the tier's PostgreSQL 17
with pgvector: Debian has pgvector only for 17, so the legacy ``agnohq/pgvector:16``
cannot be built here (docs/testing.md: The Docker tier).

Then, with no fake ``docker`` anywhere: ``adopt --detect`` finds the containers
through the Docker SDK; ``doctor`` names the legacy server holding 5532 and fails
with the fix when the daemon does not answer; ``migrate --from-legacy`` prints its
plan, and dumps only with ``--yes`` through each legacy container's own pg_dump;
the legacy servers are stopped, the stack comes up with the adopted credentials,
``doctor`` passes on its own containers; ``db restore`` brings every row back and
``db dump`` of the stack runs in its container; a
dump of 17 into an older server is refused naming both majors; after a destroy the
legacy servers start again with their data as it was. The module's finalizer
removes only what carries its labels.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from hive_infra.core.errors import CommandError
from hive_infra.core.modes import MODES
from hive_infra.core.names import STACK_LABEL, DockerNames, stack_label_value
from hive_infra.pg import restore
from hive_infra.pg.endpoint import Endpoint
from hive_infra.pg.manifest import read_manifest
from hive_infra.pg.stack_view import StackView
from hive_infra.pg.tools import LocalTools
from tests.docker.conftest import TIMINGS
from tests.support.db_helpers import Contents, contents
from tests.support.dockerlib import (
    TierImages,
    docker,
    health,
    provide_wheels,
    refuse_if_taken,
    remove_labelled,
    stack_config,
)
from tests.support.engine import Engine, Result
from tests.support.pgserver import PgServer

STACK = "legacytier"
LABEL = stack_label_value("hive", STACK)
#: The legacy containers' label value: for the finalizer only (compose set none).
LEGACY_LABEL = "hive/legacytier-legacy-install"
NAMES = DockerNames("hive")
MODE_NAMES = ("workspace", "agent", "genie")
LEGACY = {  # mode: (container, host port, database, data folder, .env)
    "workspace": ("hive-postgres", 5532, "hive", "postgres", ".env"),
    "agent": ("hive-postgres-agent", 35532, "hive_agent", "postgres-agent", ".env.agent"),
    "genie": ("hive-postgres-genie", 48532, "hive_genie", "postgres-genie", ".env.genie"),
}
#: Generated as the legacy installer made them: 16 alphanumeric characters, a mixed-case user.
USER = "hiveLgcy7Qx2Ab9K"
PASSWORD = "Lg7cy9Pw3Xq2Zr5T"
ROWS = {"workspace": 240, "agent": 160, "genie": 90}
STACK_PORTS = (5532, 8886, 38886, 48886)
API_CONTAINERS = tuple(NAMES.api_container(MODES[m]) for m in MODE_NAMES)


@dataclass
class Install:
    engine: Engine
    images: TierImages
    folder: Path
    key_base: str
    #: Every table's count and md5, read as the legacy superuser before anything ran.
    before: dict[str, Contents] = field(default_factory=dict)
    dump: Path | None = None

    @property
    def env_files(self) -> list[str]:
        return [a for mode in MODE_NAMES for a in ("--env-file", str(self.folder / LEGACY[mode][4]))]

    def hive(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Result:
        result = self.engine.hive(*args, check=check, env=env, timeout=300)
        TIMINGS.append((f"legacy: hive_infra {' '.join(a for a in args[:2])}", result.seconds))
        return result

    def pulumi(self, *args: str, check: bool = True) -> Result:
        result = self.engine.run(*args, "--stack", STACK, check=check, timeout=600)
        TIMINGS.append((f"legacy: pulumi {' '.join(a for a in args if not a.startswith('--'))}", result.seconds))
        return result


def legacy_url(mode: str, *, sqlalchemy: bool = True) -> str:
    _, port, database, _, _ = LEGACY[mode]
    query = f"?options=-csearch_path%3D{mode}" if mode != "workspace" else ""
    scheme = "postgresql+psycopg" if sqlalchemy else "postgresql"
    return f"{scheme}://{USER}:{PASSWORD}@localhost:{port}/{database}{query}"


def wait_ready(mode: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(legacy_url(mode, sqlalchemy=False), connect_timeout=3).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise AssertionError(f"legacy {mode} server did not accept logins within {seconds:.0f} s") from None
            time.sleep(0.5)


def start_legacy(images: TierImages, folder: Path) -> None:
    for name, port, database, data, _ in LEGACY.values():
        (folder / "data" / data).mkdir(parents=True, exist_ok=True)
        docker(
            "run", "--detach", "--name", name, "--label", f"{STACK_LABEL}={LEGACY_LABEL}",
            "--publish", f"127.0.0.1:{port}:5432",
            "--env", f"POSTGRES_USER={USER}", "--env", f"POSTGRES_PASSWORD={PASSWORD}",
            "--env", f"POSTGRES_DB={database}", "--env", "PGDATA=/var/lib/postgresql/data/pgdata",
            "--volume", f"{folder / 'data' / data}:/var/lib/postgresql/data",
            images.postgres, "postgres", "-c", "max_connections=200", "-c", "shared_buffers=256MB",
        )  # fmt: skip
    for mode in LEGACY:
        wait_ready(mode)


def seed(mode: str) -> None:
    """The legacy app's layout: schema-qualified hive.*, agno.*, ai.*, the mode's schema, a vector column."""
    n = ROWS[mode]
    with psycopg.connect(legacy_url(mode, sqlalchemy=False), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public")
        for schema in ("hive", "agno", "ai", *(() if mode == "workspace" else (mode,))):
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        conn.execute("CREATE TABLE hive.component_versions (id serial PRIMARY KEY, component_id text, config jsonb)")
        conn.execute(
            "INSERT INTO hive.component_versions (component_id, config) "
            "SELECT %s || '-Agent-' || g, jsonb_build_object('n', g) FROM generate_series(1, %s) g",
            (mode, n),
        )
        conn.execute(
            "CREATE TABLE agno.knowledge_base (id bigserial PRIMARY KEY, content text, embedding public.vector(3))"
        )
        conn.execute(
            "INSERT INTO agno.knowledge_base (content, embedding) "
            "SELECT 'doc ' || g, ('[' || g || ',1,2]')::public.vector FROM generate_series(1, %s) g",
            (n // 2,),
        )
        conn.execute("CREATE TABLE ai.legacy_memories (memory_id text PRIMARY KEY, user_id text, memory jsonb)")
        conn.execute(
            "INSERT INTO ai.legacy_memories SELECT %s || '-m' || g, 'U' || (g %% 4), '{}' "
            "FROM generate_series(1, %s) g",
            (mode, n // 3),
        )
        table = "public.notes" if mode == "workspace" else f"{mode}.notes"
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, note text)")
        conn.execute(f"INSERT INTO {table} SELECT g, 'note ' || g FROM generate_series(1, 12) g")


def write_env_files(folder: Path, key_base: str) -> None:
    """As the legacy generator wrote them: the user's own lines kept, the stack's keys set."""
    for mode, (_, port, database, _, name) in LEGACY.items():
        prefix = "hive_" if mode == "workspace" else f"hive_{mode}_"
        (folder / name).write_text(
            "OPENAI_API_KEY=sk-user-own-key\n"
            f"HIVE_DATABASE_URL={legacy_url(mode)}\n"
            f"POSTGRES_HOST=localhost\nPOSTGRES_PORT={port}\nPOSTGRES_USER={USER}\n"
            f"POSTGRES_PASSWORD={PASSWORD}\nPOSTGRES_DB={database}\n"
            f"HIVE_API_KEY={prefix}{key_base}\n"
        )


def legacy_contents() -> dict[str, Contents]:
    return {mode: contents(legacy_url(mode)) for mode in LEGACY}


@pytest.fixture(scope="module")
def install(pulumi_bin: Path, test_images: TierImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    legacy_ports = tuple(port for _, port, _, _, _ in LEGACY.values())
    refuse_if_taken((*legacy_ports, *STACK_PORTS[1:]), [c for c, *_ in LEGACY.values()], LEGACY_LABEL)
    refuse_if_taken((), [NAMES.postgres_container, *API_CONTAINERS], LABEL)
    engine = Engine(pulumi_bin, tmp_path_factory.mktemp("legacy-tier"))
    provide_wheels(test_images, engine.program)
    folder = engine.root / "legacy-hive"
    folder.mkdir()
    key_base = secrets.token_urlsafe(32)
    try:
        started = time.monotonic()
        start_legacy(test_images, folder)
        for mode in LEGACY:
            seed(mode)
        write_env_files(folder, key_base)
        TIMINGS.append(("legacy: three legacy servers made and seeded", time.monotonic() - started))
        yield Install(engine, test_images, folder, key_base, legacy_contents())
    finally:
        engine.run("destroy", "--yes", "--skip-preview", "--stack", STACK, check=False)
        left = {k: v for k, v in {**remove_labelled(LABEL), **remove_labelled(LEGACY_LABEL)}.items() if v}
        if left:
            print(f"legacy tier: removed {left}")


def test_adopt_detect_finds_the_legacy_containers_through_docker(install: Install) -> None:
    found = install.hive("adopt", *install.env_files, "--detect")
    text = found.stderr
    for mode, (name, port, *_rest) in LEGACY.items():
        line = next((line for line in text.splitlines() if name in line and str(port) in line), None)
        assert line, f"{mode}: the running {name} and its published port {port} are listed:\n{text}"
    assert "5532" in text and "clash" in text.lower(), f"the workspace server's port 5532 clashes:\n{text}"
    assert PASSWORD not in found.output and install.key_base not in found.output, "secrets only as lengths"


def test_doctor_names_the_legacy_server_holding_5532(install: Install) -> None:
    install.engine.init_stack(STACK, stack_config(install.images))
    checked = install.hive("doctor", "--stack", STACK, check=False)
    assert checked.code == 1, f"a port the stack needs is held: doctor fails\n{checked.output}"
    failed = [line for line in checked.output.splitlines() if "FAIL" in line and "5532" in line]
    assert failed and any("hive-postgres" in line for line in failed), (
        f"the FAIL line names the legacy container holding 5532:\n{checked.output}"
    )


def test_doctor_fails_with_the_fix_when_the_daemon_does_not_answer(install: Install, tmp_path: Path) -> None:
    dead = tmp_path / "no-daemon.sock"
    checked = install.hive("doctor", "--stack", STACK, check=False, env={"DOCKER_HOST": f"unix://{dead}"})
    assert checked.code == 1, f"doctor fails when Docker does not answer:\n{checked.output}"
    line = next((line for line in checked.output.splitlines() if line.startswith("FAIL Docker")), "")
    assert "no reachable Docker engine" in line and "fix: start the Docker engine, or set DOCKER_HOST" in line, (
        f"one FAIL line on Docker, with the fix:\n{checked.output}"
    )


def test_adopt_carries_the_credentials_into_the_stack_config(install: Install) -> None:
    printed = install.hive("adopt", *install.env_files, "--stack", STACK)
    script = printed.stdout
    assert "pulumi config set" in script and PASSWORD not in script, f"commands only, no secret:\n{script}"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=install.engine.program,
        env={**os.environ, **install.engine.env()},
        capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, f"the printed commands run as a user would run them:\n{done.stderr[-3000:]}"
    config = install.engine.run("config", "--stack", STACK, "--json", "--show-secrets").json()
    assert config["hive:dbPassword"]["value"] == PASSWORD, "the legacy password, as a secret"
    assert config["hive:dbPassword"]["secret"] is True
    assert config["hive:apiKeyBase"]["value"] == install.key_base, "the API key base: clients keep their keys"


def test_migrate_prints_the_plan_and_dumps_only_with_yes(install: Install) -> None:
    out = install.engine.program / "backups"
    args = ("migrate", "--from-legacy", *install.env_files, "--dump-only", "--out", str(out))
    plan = install.hive(*args)
    for mode, (name, _port, database, *_rest) in LEGACY.items():
        assert any(f"/{database}" in line and name in line for line in plan.stderr.splitlines()), (
            f"{mode}: the plan names its legacy database and container:\n{plan.stderr}"
        )
    assert "--yes" in plan.stderr and not out.exists(), "without --yes only the plan, no dump"
    dumped = install.hive(*args, "--yes")
    folder = Path(dumped.stdout.strip().splitlines()[-1])
    assert folder.is_dir() and folder.parent == out, f"the folder is printed on stdout: {dumped.stdout!r}"
    for name, *_rest in LEGACY.values():
        assert f"docker exec {name}" in dumped.stderr, f"pg_dump ran inside {name}:\n{dumped.stderr}"
    manifest = read_manifest(folder)
    assert {m for d in manifest.dumps for m in d.modes} == set(MODE_NAMES), "one archive per mode"
    assert all(d.facts.server_major == 17 for d in manifest.dumps), "written by the legacy servers' own 17"
    assert legacy_contents() == install.before, "the legacy databases are exactly as they were"
    install.dump = folder


def test_the_stack_comes_up_once_the_legacy_servers_are_stopped(install: Install) -> None:
    docker("stop", *(name for name, *_rest in LEGACY.values()))
    install.pulumi("up", "--yes", "--skip-preview")
    for name in (NAMES.postgres_container, *API_CONTAINERS):
        assert health(name) == "healthy", f"{name} is healthy when up returns"
    checked = install.hive("doctor", "--stack", STACK, check=False)
    assert checked.code == 0, f"the stack's own running containers pass doctor:\n{checked.output}"


def test_restore_brings_every_legacy_row_into_its_modes_database(install: Install) -> None:
    assert install.dump is not None, "the dump above"
    restored = install.hive("db", "restore", str(install.dump), "--stack", STACK)
    outputs = install.engine.outputs(STACK, secrets=True)
    for mode in MODE_NAMES:
        url = outputs["databaseUrls"][mode]
        assert f":{PASSWORD}@" in url, f"{mode}: the stack's URL carries the adopted password"
        arrived = contents(url)
        missing = {t: v for t, v in install.before[mode].items() if arrived.get(t) != v}
        assert not missing, (
            f"{mode}: every legacy table with the same rows (count and md5): {missing}\n{restored.stderr}"
        )
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            row = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert row == ("hive", False), f"{mode}: the stack's login is the non-superuser role, not the legacy superuser"
    assert f"docker exec {NAMES.postgres_container}" in restored.stderr, "pg_restore ran in the stack's container"


def test_db_dump_of_the_stack_runs_the_containers_own_pg_dump(install: Install) -> None:
    out = install.engine.program / "dumps"
    dumped = install.hive("db", "dump", "--stack", STACK, "--out", str(out))
    folder = Path(dumped.stdout.strip().splitlines()[-1])
    assert folder.parent == out and f"docker exec {NAMES.postgres_container}" in dumped.stderr, (
        f"db dump prints its folder and ran pg_dump inside the stack's container:\n{dumped.stderr}"
    )
    counted = {
        mode: {f"{t.schema}.{t.table}": t.rows for t in d.facts.tables}
        for d in read_manifest(folder).dumps
        for mode in d.modes
    }
    for mode in MODE_NAMES:
        legacy = {table: rows for table, (rows, _md5) in install.before[mode].items()}
        assert {t: counted[mode].get(t) for t in legacy} == legacy, f"{mode}: the manifest counts every legacy row"


def test_a_dump_of_17_into_an_older_server_is_refused_naming_both_majors(install: Install, pg_server: PgServer) -> None:
    """No older server with pgvector can be built here; the host's PostgreSQL is one without it."""
    assert install.dump is not None
    manifest = read_manifest(install.dump)
    with pg_server.connect() as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000  # type: ignore[index]
    assert major < 17, "the host's server is older than the dump"
    target = Endpoint(pg_server.host, pg_server.port, pg_server.superuser, pg_server.password, "postgres", "disable")
    view = StackView(None, "database", "external", None, pg_server.host, pg_server.port, ("workspace",),
                     {"workspace": "postgres"}, {"workspace": target})  # fmt: skip
    assignments, _notes = restore.assign(manifest, view, ("workspace",))
    with pytest.raises(CommandError) as refused:
        restore.restore_all(install.dump, assignments, LocalTools.from_env(), replace=False, say=lambda _line: None)
    text = str(refused.value)
    assert "comes from PostgreSQL 17" in text and f"runs {major}" in text, f"names both majors: {text}"


def test_after_a_destroy_the_legacy_servers_start_again_with_their_data(install: Install) -> None:
    install.engine.run("config", "set", "--stack", STACK, "hive:backupOnDestroy", "false")
    install.pulumi("up", "--yes", "--skip-preview")
    install.pulumi("destroy", "--yes", "--skip-preview")
    docker("start", *(name for name, *_rest in LEGACY.values()))
    for mode in LEGACY:
        wait_ready(mode)
    assert legacy_contents() == install.before, "going back: every legacy row as it was, nothing written"
