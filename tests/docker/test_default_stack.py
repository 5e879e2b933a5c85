"""The default stack's whole life under the real Pulumi CLI on a real Docker engine.

The stack is the default one (container mode, all three modes, ``extensions=[vector]``,
the default names and ports); only ``postgresImage`` and ``apiBaseImage`` name the tier's
local images, and the host's wheels are put in the build context, so the API image the
stack builds installs the pinned app with no index. Its name is ``dockertier`` (label ``hive/dockertier``),
not a user's ``dev``, and the module's finalizer removes only objects carrying that
label, whatever failed. The tests run in order and build on each other (one stack's
life); each names what it checks.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dotenv import dotenv_values

from hive_infra.core.modes import MODES
from hive_infra.core.names import STACK_LABEL, DockerNames, stack_label_value
from tests.docker.conftest import TIMINGS
from tests.support import hive_app
from tests.support.dockerlib import (
    TierImages,
    docker,
    health,
    inspect,
    labelled,
    labels_of,
    provide_wheels,
    refuse_if_taken,
    remove_labelled,
    stack_config,
    user_project,
)
from tests.support.engine import Engine, Result
from tests.support.hive_app import ModeApi

STACK = "dockertier"
LABEL = stack_label_value("hive", STACK)
NAMES = DockerNames("hive")
MODE_NAMES = ("workspace", "agent", "genie")
API_CONTAINERS = {mode: NAMES.api_container(MODES[mode]) for mode in MODE_NAMES}
ALL_CONTAINERS = (NAMES.postgres_container, *API_CONTAINERS.values())
PORTS = (5532, 8886, 38886, 48886)
USER_LINE = "MY_MODEL_KEY=sk-mine-not-the-stacks\n"
GENIE_USER_LINE = "GENIE_NOTE=kept-when-genie-goes\n"


def assert_all_healthy(names: Iterable[str], why: str) -> None:
    """Every container healthy now, not eventually: `up` waited for them (wait=True)."""
    states = {name: health(name) for name in names}
    assert set(states.values()) == {"healthy"}, f"{why}: {states}"


@dataclass
class Life:
    engine: Engine
    images: TierImages
    #: The project copy: envDir is `.`, so the .env files are written here.
    env_dir: Path
    volumes_before: set[str]
    #: Rows written through the URLs, by mode: (table, count), for the checks after each change.
    rows: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: The folder the destroy's backup wrote.
    backup: Path | None = None

    def pulumi(self, *args: str, check: bool = True, timeout: float = 600) -> Result:
        result = self.engine.run(*args, "--stack", STACK, check=check, timeout=timeout)
        TIMINGS.append((f"pulumi {' '.join(a for a in args if not a.startswith('--'))}", result.seconds))
        return result

    def outputs(self) -> dict[str, Any]:
        return self.engine.outputs(STACK, secrets=True)


@pytest.fixture(scope="module")
def life(pulumi_bin: Path, test_images: TierImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    refuse_if_taken(PORTS, ALL_CONTAINERS, LABEL)
    volumes_before = set(docker("volume", "ls", "-q").split())
    engine = Engine(pulumi_bin, tmp_path_factory.mktemp("docker-tier"))
    provide_wheels(test_images, engine.program)
    # The user's own lines, before the stack exists: in the workspace file and in genie's.
    (engine.program / ".env").write_text(USER_LINE)
    (engine.program / ".env.genie").write_text(GENIE_USER_LINE)
    try:
        yield Life(engine, test_images, engine.program, volumes_before)
    finally:
        removed = remove_labelled(LABEL)
        left = {kind: names for kind, names in removed.items() if names}
        if left:
            print(f"docker tier: removed what the stack left behind: {left}")


def pg_url(url: str) -> str:
    """The app's SQLAlchemy URL (``postgresql+psycopg://``) as libpq takes it."""
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


def count(url: str, table: str) -> int:
    with psycopg.connect(pg_url(url)) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def apis(outputs: dict[str, Any]) -> dict[str, ModeApi]:
    return {
        mode: ModeApi(mode, outputs["apiUrls"][mode], {"HIVE_API_KEY": outputs["apiKeys"][mode]})
        for mode in outputs["apiUrls"]
    }


def secret_values(outputs: dict[str, Any]) -> dict[str, str]:
    """Every secret the stack holds, by a name that says which (never printed)."""
    found: dict[str, str] = {}
    for mode, url in outputs["databaseUrls"].items():
        password = psycopg.conninfo.conninfo_to_dict(pg_url(url)).get("password")
        assert password, f"{mode}'s URL carries the role's password"
        found["dbPassword"] = str(password)
    for mode, key in outputs["apiKeys"].items():
        found[f"apiKey[{mode}]"] = key
    env = (inspect(NAMES.postgres_container) or {}).get("Config", {}).get("Env", [])
    admin = [item.split("=", 1)[1] for item in env if item.startswith("POSTGRES_PASSWORD=")]
    assert admin and admin[0], "the PostgreSQL container got the admin password"
    found["adminPassword"] = admin[0]
    return found


def container_ids() -> dict[str, str]:
    return {name: (inspect(name) or {}).get("Id", "") for name in ALL_CONTAINERS}


def repair(life: Life) -> None:
    """What doctor's fix, `make repair STACK=dockertier YES=1`, runs after a container was removed or stopped."""
    life.engine.hive("repair", "--stack", STACK, "--yes", timeout=900)


# -- the life --------------------------------------------------------------------


def test_preview_plans_the_default_stack(life: Life) -> None:
    life.engine.init_stack(STACK, stack_config(life.images))
    result = life.pulumi("preview")
    created = re.search(r"\+ (\d+) to create", result.stdout)
    assert created and int(created.group(1)) >= 40, f"the whole default stack is planned:\n{result.stdout[-2000:]}"
    assert not (life.env_dir / ".env.agent").exists(), "preview writes no .env file"
    assert labelled(LABEL) == {"container": [], "volume": [], "network": []}, "preview creates no Docker object"


def test_up_returns_with_every_container_healthy(life: Life) -> None:
    life.pulumi("up", "--yes", "--skip-preview")
    assert_all_healthy(ALL_CONTAINERS, "up waits for PostgreSQL's and each API's healthcheck before it returns")
    found = labelled(LABEL)
    assert sorted(found["container"]) == sorted(ALL_CONTAINERS), "one PostgreSQL and three API containers"
    assert found["network"] == [NAMES.network], "one network, labelled"
    expected_volumes = {NAMES.postgres_volume} | {
        volume
        for mode in MODE_NAMES
        for volume in (NAMES.api_logs_volume(MODES[mode]), NAMES.api_data_volume(MODES[mode]))
    }
    assert set(found["volume"]) == expected_volumes, "PostgreSQL's data volume and each mode's logs and data volumes"
    for name in ALL_CONTAINERS:
        bindings = (inspect(name) or {})["HostConfig"]["PortBindings"]
        hosts = {b["HostIp"] for ports in bindings.values() for b in ports}
        assert hosts == {"127.0.0.1"}, f"{name} publishes on loopback only (bindAddress), not {hosts}"


def test_each_url_logs_in_as_the_app_role_to_its_own_database_with_vector(life: Life) -> None:
    outputs = life.outputs()
    for mode in MODE_NAMES:
        with psycopg.connect(pg_url(outputs["databaseUrls"][mode])) as conn:
            user, database, superuser = conn.execute(
                "SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone() or (None, None, None)
            assert (user, database) == ("hive", outputs["databases"][mode]), (
                f"{mode}: the app role, in its own database"
            )
            assert superuser is False, f"{mode}: the app role is not a superuser"
            table = f"{outputs['schemas'][mode]}.tier_rows"
            conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, mode text, embedding vector(3))")
            for i in range(25):
                conn.execute(f"INSERT INTO {table} (mode, embedding) VALUES (%s, %s::vector)", (mode, f"[{i},1,2]"))
            nearest = conn.execute(f"SELECT mode FROM {table} ORDER BY embedding <-> '[3,1,2]' LIMIT 1").fetchone()
            assert nearest == (mode,), f"{mode}: pgvector answers a nearest-neighbour query"
        life.rows[mode] = (table, 25)


def test_a_wrong_password_is_refused(life: Life) -> None:
    url = pg_url(life.outputs()["databaseUrls"]["workspace"])
    wrong = psycopg.conninfo.make_conninfo(url, password="not-the-password-at-all")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()


def test_the_apis_answer_by_name_on_the_stack_network(life: Life) -> None:
    ports = life.outputs()["ports"]
    probe = "; ".join(
        f"urllib.request.urlopen('http://{API_CONTAINERS[mode]}:{ports[mode]['api']}/health', timeout=10)"
        for mode in MODE_NAMES
    )
    name = f"hive-dockertier-probe-{uuid.uuid4().hex[:8]}"
    docker(
        "run", "--rm", "--name", name, "--network", NAMES.network, "--label", f"{STACK_LABEL}={LABEL}",
        "--entrypoint", "python3", life.images.python_base, "-c", f"import urllib.request; {probe}",
    )  # fmt: skip


def test_each_api_takes_its_own_key_and_no_other(life: Life) -> None:
    hive_app.assert_own_key_only(apis(life.outputs()))


def test_each_mode_sees_only_its_own_memories_and_sessions(life: Life) -> None:
    outputs = life.outputs()
    modes = apis(outputs)
    for mode, api in modes.items():
        hive_app.create_memory(api, f"remembered by {mode}", user_id="tier-user")
        hive_app.create_session(api, f"session-{mode}", f"{mode}'s session", user_id="tier-user")
    for mode, api in modes.items():
        memories = {m["memory"] for m in hive_app.list_memories(api, user_id="tier-user")}
        assert memories == {f"remembered by {mode}"}, f"{mode} reads back only its own memory"
        sessions = {s["session_id"] for s in hive_app.list_sessions(api, user_id="tier-user")}
        assert sessions == {f"session-{mode}"}, f"{mode} lists only its own session"
        url = outputs["databaseUrls"][mode]
        assert count(url, f"{hive_app.AGNO_SCHEMA}.{hive_app.MEMORY_TABLE}") == 1, f"{mode}'s memory is in its database"
        assert count(url, f"{hive_app.AGNO_SCHEMA}.{hive_app.SESSION_TABLE}") == 1, f"{mode}'s session too"


def built_image() -> str:
    """The id of the image the API containers run (the one the stack built)."""
    return str((inspect(API_CONTAINERS["workspace"]) or {})["Image"])


def test_the_apis_run_the_image_the_stack_built_as_a_non_root_user(life: Life) -> None:
    image = inspect(built_image(), "image") or {}
    tags = image.get("RepoTags") or []
    assert any(t.startswith("hive-infra/hive-api:1.0.0rc7-") for t in tags), f"tagged by version and digest: {tags}"
    assert image["Config"]["User"] == "hive", "the app runs as the image's non-root user"
    version = docker("exec", API_CONTAINERS["agent"], "python", "-c",
                     "import importlib.metadata as m; print(m.version('automagik-hive'))").strip()  # fmt: skip
    assert version == "1.0.0rc7", "the pinned app, installed from the host's wheels"
    uid = docker("exec", API_CONTAINERS["agent"], "id", "-u").strip()
    assert uid == "1000", "hive serve runs as uid 1000, not root"
    for mode, name in API_CONTAINERS.items():
        docker("exec", name, "sh", "-c", "test -w /app/data && test -w /app/logs")  # fails the test if not
        assert "/app/data" in {m["Destination"] for m in (inspect(name) or {})["Mounts"]}, f"{mode}: data is a volume"


def make_user_project(life: Life, agent: str) -> Path:
    """A hive project made by the app's own CLI inside the built image, with an agent of its own."""
    project = user_project(built_image(), life.engine.root / "my-hive-project", agent, f"{STACK_LABEL}={LABEL}")
    (project / ".env").unlink(missing_ok=True)  # its placeholders: the containers get the stack's environment
    return project


def test_a_users_project_with_its_own_agent_is_served(life: Life) -> None:
    before = container_ids()
    project = make_user_project(life, "tier-own-agent")
    life.engine.run("config", "set", "--stack", STACK, "hive:apiProjectDir", str(project))
    life.pulumi("up", "--yes", "--skip-preview")
    after = container_ids()
    assert after[NAMES.postgres_container] == before[NAMES.postgres_container], "PostgreSQL was left as it was"
    assert_all_healthy(API_CONTAINERS.values(), "each API, replaced to mount the project, was waited for")
    for mode, api in apis(life.outputs()).items():
        assert after[API_CONTAINERS[mode]] != before[API_CONTAINERS[mode]], f"{mode}'s container was replaced"
        assert "tier-own-agent" in hive_app.agent_ids(api), f"{mode} serves the user's project and its agent"
        docker("exec", API_CONTAINERS[mode], "sh", "-c", "test -w /app/data")  # the mode's volume, over the project
        memories = {m["memory"] for m in hive_app.list_memories(api, user_id="tier-user")}
        assert memories == {f"remembered by {mode}"}, f"{mode}'s memory is in its database, not in the project"


def test_no_secret_in_the_state_or_the_labels(life: Life) -> None:
    secrets = secret_values(life.outputs())
    state = life.engine.state_text()
    labels = json.dumps(labels_of(LABEL))
    for what, value in secrets.items():
        assert value not in state, f"{what} is not in the state files (only its ciphertext is)"
        assert value not in labels, f"{what} is in no Docker label"


def test_a_second_up_changes_nothing(life: Life) -> None:
    before = container_ids()
    life.pulumi("up", "--yes", "--expect-no-changes")
    assert container_ids() == before, "no container was replaced"


#: Lines no API container can take (#29): on the code before, an up deleted the three API containers and
#: their replacements could not be created (NUL) or crash-looped (argument list too long).
BAD_LINES = {
    "nul": (b'BAD_KEY="sk-bad\x00tail"\n', "NUL byte"),
    "control": (b"BAD_KEY=sk-bad\x1btail\n", "U+001B"),
    "not-utf8": (b"BAD_KEY=sk-bad\xe9tail\n", "not UTF-8"),
    "too-long": (b"BAD_KEY=sk-bad" + b"x" * 140_000 + b"\n", "argument list too long"),
}


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_a_bad_env_line_is_refused_by_preview_and_up_with_nothing_replaced(life: Life, kind: str) -> None:
    line, named = BAD_LINES[kind]
    env = life.env_dir / ".env"
    before, text = container_ids(), env.read_bytes()
    env.write_bytes(text + line)
    try:
        for command in (("preview",), ("up", "--yes")):
            refused = life.pulumi(*command, check=False)
            assert refused.code != 0, f"{command[0]} refuses a line no container can take:\n{refused.output[-2000:]}"
            assert named in refused.output and f"{env}, line" in refused.output and "fix the file" in refused.output, (
                f"{command[0]} names the file, the line and the fix:\n{refused.failure_text()}"
            )
            assert "sk-bad" not in refused.output, "and never the value"
    finally:
        env.write_bytes(text)
    assert container_ids() == before, "no container was deleted or replaced"
    assert_all_healthy(ALL_CONTAINERS, "every API still answers")


def test_a_new_app_version_replaces_only_the_image_and_the_api_containers(life: Life) -> None:
    """What docs/operations.md's Upgrading section shows: the preview of an apiVersion change."""
    life.engine.run("config", "set", "--stack", STACK, "hive:apiVersion", "1.0.0rc6")
    try:
        steps = life.engine.preview_steps(STACK)
    finally:
        life.engine.run("config", "rm", "--stack", STACK, "hive:apiVersion")
    api = {f"hive-api-{mode}-{part}" for mode in MODE_NAMES for part in ("container", "health")}
    assert steps == {name: "replace" for name in {"hive-api-image", *api}}, (
        f"the image is rebuilt, each API container replaced and waited for again; nothing else changes "
        f"(the volumes, PostgreSQL and the database objects are kept): {steps}"
    )
    life.pulumi("up", "--yes", "--expect-no-changes")


def test_a_name_prefix_that_would_delete_the_data_volume_is_refused(life: Life) -> None:
    """namePrefix renames the data volume, which the engine would delete first (delete-before-replace)."""
    before = container_ids()
    life.engine.run("config", "set", "--stack", STACK, "hive:namePrefix", "h2")
    try:
        refused = life.pulumi("up", "--yes", "--skip-preview", check=False)
    finally:
        life.engine.run("config", "rm", "--stack", STACK, "hive:namePrefix")
    assert refused.code != 0, "the up is refused"
    assert f"volume {NAMES.postgres_volume}" in refused.output and "every mode's rows" in refused.output, (
        f"naming the volume it would have deleted:\n{refused.failure_text()}"
    )
    assert container_ids() == before and NAMES.postgres_volume in labelled(LABEL)["volume"], "nothing was touched"
    life.pulumi("up", "--yes", "--expect-no-changes")


def test_a_new_db_password_reaches_the_role_the_env_files_and_the_containers(life: Life) -> None:
    old = life.outputs()
    new_password = "tier-" + uuid.uuid4().hex  # 37 characters, URL-safe
    life.engine.run("config", "set", "--secret", "--stack", STACK, "hive:dbPassword", stdin=new_password)
    life.pulumi("up", "--yes", "--skip-preview")
    new = life.outputs()
    for mode in MODE_NAMES:
        url = new["databaseUrls"][mode]
        assert new_password in url, f"{mode}'s exported URL carries the new password"
        table, rows = life.rows[mode]
        assert count(url, table) == rows, f"{mode}: every row is still there, reached with the new password"
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(pg_url(old["databaseUrls"][mode])).close()
        file = life.env_dir / new["envFilePaths"][mode]
        assert new_password in (dotenv_values(file).get("HIVE_DATABASE_URL") or ""), f"{file.name} has the new URL"
        env = (inspect(API_CONTAINERS[mode]) or {})["Config"]["Env"]
        urls = [item for item in env if item.startswith("HIVE_DATABASE_URL=")]
        assert urls and new_password in urls[0], f"{API_CONTAINERS[mode]} runs with the new URL"
    assert_all_healthy(API_CONTAINERS.values(), "the replaced API containers were waited for")
    assert dotenv_values(life.env_dir / ".env").get("MY_MODEL_KEY") == "sk-mine-not-the-stacks", "the user's line"


def test_a_postgres_container_removed_by_hand_comes_back_with_every_row(life: Life) -> None:
    docker("rm", "-f", NAMES.postgres_container)
    checked = life.engine.hive("doctor", "--stack", STACK, check=False)
    assert f"warn container {NAMES.postgres_container}: this stack's container is gone" in checked.output, (
        f"doctor (the first step of make up) leads to make repair:\n{checked.output}"
    )
    repair(life)
    assert health(NAMES.postgres_container) == "healthy", "up made it again and waited for it"
    outputs = life.outputs()
    for mode, (table, rows) in life.rows.items():
        assert count(outputs["databaseUrls"][mode], table) == rows, f"{mode}: every row, from the kept data volume"


def test_an_api_container_stopped_by_hand_runs_again(life: Life) -> None:
    name = API_CONTAINERS["workspace"]
    docker("stop", name)
    assert health(name) == "exited", "stopped (restart=unless-stopped keeps a manual stop)"
    checked = life.engine.hive("doctor", "--stack", STACK, check=False)
    assert f"warn container {name}: this stack's container is exited" in checked.output, (
        f"doctor names it and the repair:\n{checked.output}"
    )
    assert f"fix: make repair STACK={STACK}" in checked.output, f"and the command to run:\n{checked.output}"
    before = container_ids()[name]
    repair(life)
    assert container_ids()[name] == before, "started again (docker start), not replaced"
    assert_all_healthy([name], "healthy again")
    memories = hive_app.list_memories(apis(life.outputs())["workspace"], user_id="tier-user")
    assert [m["memory"] for m in memories] == ["remembered by workspace"], "its memory is still there"


GENIE_VOLUMES = (NAMES.api_logs_volume(MODES["genie"]), NAMES.api_data_volume(MODES["genie"]))


def test_modes_without_genie_remove_only_genies_container_and_keep_its_data(life: Life) -> None:
    before = container_ids()
    genie_url = life.outputs()["databaseUrls"]["genie"]
    docker("exec", API_CONTAINERS["genie"], "sh", "-c", "echo genie-was-here > /app/data/tier-marker")
    life.engine.run("config", "set", "--path", "--stack", STACK, "hive:modes[0]", "workspace")
    life.engine.run("config", "set", "--path", "--stack", STACK, "hive:modes[1]", "agent")
    removed = life.pulumi("up", "--yes", "--skip-preview")
    found = labelled(LABEL)
    assert API_CONTAINERS["genie"] not in found["container"], "genie's API container is gone"
    assert set(GENIE_VOLUMES) <= set(found["volume"]), "its logs and data volumes are kept, not deleted silently"
    assert all(v in removed.output for v in GENIE_VOLUMES) and "hive_genie" in removed.output, (
        f"the up says what stayed:\n{removed.output[-3000:]}"
    )
    assert "docker volume rm" in removed.output, "and how to delete it"
    after = container_ids()
    for name in ALL_CONTAINERS:
        if name != API_CONTAINERS["genie"]:
            assert after[name] == before[name], f"{name} was left as it was"
    # Kept on purpose: a mode's rows outlive the mode (its database and extensions are retained),
    # and so do the user's lines of its .env file; the stack's own lines leave with the mode (a file
    # that held nothing else is removed: the engine tier shows that case).
    table, rows = life.rows["genie"]
    assert count(genie_url, table) == rows, "genie's database is kept with every row (and its vector extension)"
    genie_env = dotenv_values(life.env_dir / ".env.genie")
    assert genie_env == {"GENIE_NOTE": "kept-when-genie-goes"}, "only the user's line is left in .env.genie"
    assert "genie" not in life.outputs()["databaseUrls"], "and the stack no longer exports it"


def test_genie_added_back_takes_over_its_rows_and_volumes(life: Life) -> None:
    """On the code before, the up failed on 'database "hive_genie" already exists' (#29)."""
    life.engine.run("config", "rm", "--stack", STACK, "hive:modes")  # all three modes again
    life.pulumi("up", "--yes", "--skip-preview")
    assert_all_healthy(ALL_CONTAINERS, "genie's API runs again")
    outputs = life.outputs()
    table, rows = life.rows["genie"]
    assert count(outputs["databaseUrls"]["genie"], table) == rows, "its database was taken over with every row"
    memories = [m["memory"] for m in hive_app.list_memories(apis(outputs)["genie"], user_id="tier-user")]
    assert memories == ["remembered by genie"], "and genie's API serves its memory from before"
    marker = docker("exec", API_CONTAINERS["genie"], "cat", "/app/data/tier-marker").strip()
    assert marker == "genie-was-here", "its data volume is the one it had"
    # Before the mode's own file counted with the defaults its up seeds, genie's container took the
    # workspace file's HIVE_CORS_ORIGINS here and the next up replaced it with its own.
    life.pulumi("up", "--yes", "--expect-no-changes")  # nothing: the import_ of a database in the state is a no-op too


def test_protect_data_makes_destroy_refuse_with_nothing_deleted(life: Life) -> None:
    life.engine.run("config", "set", "--stack", STACK, "hive:protectData", "true")
    life.pulumi("up", "--yes", "--skip-preview")
    before = container_ids()
    files = {path.name: path.read_text() for path in life.env_dir.glob(".env*")}
    refused = life.pulumi("destroy", "--yes", "--skip-preview", check=False)
    assert refused.code != 0, "destroy of a stack with protectData fails"
    assert "hive-protect-data" in refused.output and "protect" in refused.output, (
        f"and names the protected guard:\n{refused.failure_text()}"
    )
    # Before the guard, a destroy deleted the containers, the .env lines and the generated admin
    # password (the kept data refused the next one) and stopped only at the protected volumes.
    assert container_ids() == before, "no container was deleted"
    assert {path.name: path.read_text() for path in life.env_dir.glob(".env*")} == files, "no .env line was removed"
    life.pulumi("up", "--yes", "--expect-no-changes")  # the secrets and everything else are still in the state
    life.engine.run("config", "set", "--stack", STACK, "hive:protectData", "false")
    life.pulumi("up", "--yes", "--skip-preview")


def wait_healthy(name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while health(name) != "healthy" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert health(name) == "healthy", f"{name} turned healthy again within {seconds:.0f} s"


def test_a_stopped_postgres_makes_destroy_refuse_with_no_data_deleted(life: Life) -> None:
    """The backup before the delete needs the server: without it, the destroy stops first."""
    before = container_ids()
    files = {path.name: path.read_text() for path in life.env_dir.glob(".env*")}
    docker("stop", NAMES.postgres_container)
    try:
        refused = life.pulumi("destroy", "--yes", "--skip-preview", check=False)
    finally:
        docker("start", NAMES.postgres_container)
    assert refused.code != 0, "destroy fails when its backup cannot be taken"
    text = refused.failure_text()
    assert f"{NAMES.postgres_container} is exited" in refused.output, f"names the stopped container:\n{text}"
    assert f"docker start {NAMES.postgres_container}" in refused.output, f"and how to start it:\n{text}"
    assert "hive:backupOnDestroy false" in refused.output, f"or to turn the backup off:\n{text}"
    assert container_ids() == before, "no container was deleted"
    assert set(labelled(LABEL)["volume"]) >= {NAMES.postgres_volume}, "the data volume is there"
    assert {path.name: path.read_text() for path in life.env_dir.glob(".env*")} == files, "no .env line was removed"
    wait_healthy(NAMES.postgres_container)
    assert not (life.env_dir / "backups").exists() or not any((life.env_dir / "backups").iterdir()), (
        "no half-written backup is left"
    )


def test_destroy_with_an_env_file_it_cannot_edit_refuses_with_nothing_deleted(life: Life) -> None:
    """On the code before, the destroy backed up, deleted the containers, then stopped half way (#29)."""
    agent = life.env_dir / ".env.agent"
    moved = life.env_dir / "agent-env-real"
    before = container_ids()
    agent.rename(moved)
    agent.symlink_to(moved.name)
    try:
        refused = life.pulumi("destroy", "--yes", "--skip-preview", check=False)
    finally:
        agent.unlink()
        moved.rename(agent)
    assert refused.code != 0, "a destroy that could not finish is refused"
    assert f"{agent} is a symbolic link" in refused.output and "Nothing was deleted" in refused.output, (
        f"naming the file and the fix:\n{refused.failure_text()}"
    )
    assert container_ids() == before, "no container was deleted"
    assert not (life.env_dir / "backups").exists() or not any((life.env_dir / "backups").iterdir()), (
        "refused before the backup"
    )


KEPT_VOLUMES = {NAMES.api_logs_volume(MODES[m]) for m in MODE_NAMES} | {
    NAMES.api_data_volume(MODES[m]) for m in MODE_NAMES
}
LATIN1_LINE = b"GENIE_LATIN1=caf\xe9\n"


def test_destroy_backs_up_every_database_then_leaves_nothing_but_the_users_lines(life: Life) -> None:
    genie_env = life.env_dir / ".env.genie"
    genie_text = genie_env.read_bytes()
    genie_env.write_bytes(genie_text + LATIN1_LINE)  # a line python-dotenv cannot read: never a failure (#29)
    life.engine.run("config", "set", "--stack", STACK, "hive:backupDir", "elsewhere")  # set, not applied
    try:
        destroyed = life.pulumi("destroy", "--yes", "--skip-preview")
    finally:
        life.engine.run("config", "rm", "--stack", STACK, "hive:backupDir")
    kept = genie_env.read_bytes()
    genie_env.write_bytes(kept.replace(LATIN1_LINE, b""))  # the up after this reads the file again
    assert kept == GENIE_USER_LINE.encode() + LATIN1_LINE, (
        "the destroy removed its own keys and kept every byte of the user's, the line it cannot read too"
    )
    assert "sets hive:backupDir to elsewhere" in destroyed.output and "pulumi up" in destroyed.output, (
        f"the destroy says it used the deployed backupDir, not the unapplied one:\n{destroyed.output[-3000:]}"
    )
    found = labelled(LABEL)
    assert found["container"] == [] and found["network"] == [], "no container or network left"
    assert set(found["volume"]) == KEPT_VOLUMES, "only each mode's logs and data volumes, kept (README: Destroy)"
    docker("volume", "rm", *KEPT_VOLUMES)
    new_volumes = set(docker("volume", "ls", "-q").split()) - life.volumes_before
    assert not new_volumes, f"no anonymous volume left behind either: {new_volumes}"
    assert dotenv_values(life.env_dir / ".env").get("MY_MODEL_KEY") == "sk-mine-not-the-stacks", "the user's line"
    assert "HIVE_DATABASE_URL" not in dotenv_values(life.env_dir / ".env"), "the stack's lines are gone"
    (folder,) = (life.env_dir / "backups").iterdir()
    assert folder.name in destroyed.output, f"the destroy's output names the backup:\n{destroyed.output[-3000:]}"
    assert f"docker exec {NAMES.postgres_container}" in destroyed.output, "dumped by the container's own pg_dump"
    manifest = json.loads((folder / "manifest.json").read_text())
    counted = {
        mode: {f"{t['schema']}.{t['table']}": t["rows"] for t in dump["tables"]}
        for dump in manifest["dumps"]
        for mode in dump["modes"]
    }
    assert set(counted) == set(MODE_NAMES), (
        "every mode's database, genie's too: removed from modes earlier, its database stayed in the volume"
    )
    for mode, (table, rows) in life.rows.items():
        assert counted[mode].get(table) == rows, f"{mode}: the manifest counts {rows} rows in {table}"
    life.backup = folder


def test_up_and_restore_of_the_backup_bring_every_row_back(life: Life) -> None:
    """What the README tells a user after a destroy: up, then db restore of the folder it printed."""
    assert life.backup is not None, "the destroy above wrote a backup"
    life.engine.run("config", "rm", "--stack", STACK, "hive:modes")  # all three modes again
    life.pulumi("up", "--yes", "--skip-preview")
    outputs = life.outputs()
    for mode, api in apis(outputs).items():
        assert hive_app.list_memories(api, user_id="tier-user") == [], f"{mode} starts on an empty database"
    # The APIs made their (empty) tables when they started: without --replace the restore refuses them.
    refused = life.engine.hive("db", "restore", str(life.backup), "--stack", STACK, check=False, timeout=300)
    assert refused.code == 2 and "--replace" in refused.output, f"refused, naming the way on:\n{refused.output}"
    restored = life.engine.hive("db", "restore", str(life.backup), "--stack", STACK, "--replace", timeout=300)
    for mode, (table, rows) in life.rows.items():
        assert count(outputs["databaseUrls"][mode], table) == rows, f"{mode}: every row is back:\n{restored.output}"
    for mode, api in apis(outputs).items():
        memories = [m["memory"] for m in hive_app.list_memories(api, user_id="tier-user")]
        assert memories == [f"remembered by {mode}"], f"{mode}'s API serves its restored memory, and no other"
    life.engine.run("config", "set", "--stack", STACK, "hive:backupOnDestroy", "false")
    life.pulumi("up", "--yes", "--skip-preview")
    life.pulumi("destroy", "--yes", "--skip-preview")
    assert [p.name for p in (life.env_dir / "backups").iterdir()] == [life.backup.name], (
        "with backupOnDestroy=false the destroy takes no backup; the earlier one is kept (never pruned)"
    )
    left = labelled(LABEL)
    assert left["container"] == [] and left["network"] == [] and set(left["volume"]) == KEPT_VOLUMES, (
        "and deletes everything but each mode's logs and data volumes"
    )
    docker("volume", "rm", *KEPT_VOLUMES)
    life.engine.run("stack", "rm", "--yes", "--stack", STACK)


def test_a_folder_that_is_not_a_project_fails_preview_with_nothing_created(life: Life) -> None:
    stack = f"{STACK}-nofolder"
    half = life.engine.root / "half-project"
    (half / "ai").mkdir(parents=True)
    (half / "hive.yaml").write_text("name: half\n")
    life.engine.init_stack(stack, stack_config(life.images, apiProjectDir=str(half)))
    try:
        for command in (("preview",), ("up", "--yes", "--skip-preview")):
            refused = life.engine.run(*command, "--stack", stack, check=False)
            assert refused.code != 0, f"{command[0]} refuses a folder hive serve cannot serve"
            assert "hive:apiProjectDir" in refused.output and "pyproject.toml" in refused.output, (
                f"{command[0]} names the key and what the folder lacks:\n{refused.failure_text()}"
            )
        made = labelled(stack_label_value("hive", stack))
        assert made == {"container": [], "volume": [], "network": []}, f"nothing was created: {made}"
        state = life.engine.run("stack", "export", "--stack", stack).json()["deployment"].get("resources") or []
        assert [r["type"] for r in state] in ([], ["pulumi:pulumi:Stack"]), f"and no resource is in the state: {state}"
    finally:
        remove_labelled(stack_label_value("hive", stack))
        life.engine.run("stack", "rm", "--yes", "--force", "--stack", stack, check=False)


def test_a_broken_project_fails_up_naming_the_container_and_its_log(life: Life) -> None:
    """After the life above: a project that passes the folder check but that `hive serve`
    cannot load (its hive.yaml is not YAML) fails `up` long before apiHealthTimeout, naming
    the container and `docker logs`; the database it made is left running with its data."""
    stack = f"{STACK}-broken"
    project = life.engine.root / "broken-project"
    (project / "ai").mkdir(parents=True)
    (project / "hive.yaml").write_text("project: [unclosed\n")
    (project / "pyproject.toml").write_text("[project]\nname = 'broken'\nversion = '0'\n")
    life.engine.init_stack(
        stack,
        stack_config(life.images, apiProjectDir=str(project), apiHealthTimeout="120", **{"modes[0]": "workspace"}),
    )
    try:
        failed = life.engine.run("up", "--yes", "--skip-preview", "--stack", stack, check=False)
        TIMINGS.append(("up of a stack whose project is broken", failed.seconds))
        assert failed.code != 0, "up fails when the app cannot start"
        name = API_CONTAINERS["workspace"]
        assert f"docker logs {name}" in failed.output, f"names the container's log:\n{failed.failure_text()}"
        assert "the app does not start" in failed.output or "stopped" in failed.output, failed.failure_text()
        assert failed.seconds < 100, f"at the app's first crashes, not at the 120 s timeout: {failed.seconds:.0f} s"
        assert health(NAMES.postgres_container) == "healthy", "the database was made and left running"
        assert inspect(name) is not None, "the container is left to be read"
    finally:
        life.engine.run("destroy", "--yes", "--skip-preview", "--stack", stack, check=False)
        remove_labelled(stack_label_value("hive", stack))
        life.engine.run("stack", "rm", "--yes", "--force", "--stack", stack, check=False)
