"""A default stack made by the previous version of this program, upgraded to this one.

The previous version (``PREVIOUS``, the last commit before the stack built its own
API image) ran ``ghcr.io/namastexlabs/automagik-hive:latest``, the 0.x app, when
``apiImage`` was unset. Its program is taken from git (``git archive``), its stack
brought up on a stand-in for that image (``images/api0x``: root, ``/api/v1/health``,
files written into the volumes), and then previewed and brought up by this version:
the preview the README's *Upgrading* shows, the rows and volumes kept. The
stand-in is tagged with the 0.x image's name only while the test runs, and never
over a real image of that name.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from hive_infra.core.modes import MODES
from hive_infra.core.names import DockerNames, stack_label_value
from tests.docker.conftest import TIMINGS
from tests.support.dockerlib import (
    PROJECT_DIR,
    TierImages,
    docker,
    health,
    inspect,
    provide_wheels,
    refuse_if_taken,
    remove_labelled,
)
from tests.support.engine import CommitUnavailable, Engine, program_at

#: dd5deb7: the version before the built image (the 0.x image by default, the provider's wait).
PREVIOUS = "dd5deb758c34562a6f6388d76c4c56f83d4d98c2"
LEGACY_IMAGE = "ghcr.io/namastexlabs/automagik-hive:latest"
STANDIN_LABEL = "org.automagik-hive.test-image=standin-0x"
STACK = "upgradetier"
LABEL = stack_label_value("hive", STACK)
NAMES = DockerNames("hive")
MODE_NAMES = ("workspace", "agent", "genie")
API_CONTAINERS = [NAMES.api_container(MODES[mode]) for mode in MODE_NAMES]
PORTS = (5532, 8886, 38886, 48886)


@dataclass
class Upgrade:
    engine: Engine
    images: TierImages


@pytest.fixture(scope="module")
def upgrade(pulumi_bin: Path, test_images: TierImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upgrade]:
    refuse_if_taken(PORTS, [NAMES.postgres_container, *API_CONTAINERS], LABEL)
    existing = inspect(LEGACY_IMAGE, "image")
    if existing is not None and (existing["Config"].get("Labels") or {}).get(STANDIN_LABEL.split("=")[0]) is None:
        pytest.fail(f"{LEGACY_IMAGE} is a real image here: the test does not tag its stand-in over it", pytrace=False)
    root = tmp_path_factory.mktemp("upgrade-tier")
    try:
        previous = program_at(PREVIOUS, root / "previous")
    except CommitUnavailable as exc:
        pytest.skip(f"the previous version: {exc}")
    context = root / "standin"
    shutil.copytree(PROJECT_DIR / "tests" / "docker" / "images" / "api0x", context)
    shutil.copy2(PROJECT_DIR / ".github" / "standin-api" / "server.py", context / "server.py")
    docker("build", "-q", "--label", STANDIN_LABEL, "--build-arg", f"BASE={test_images.python_base}",
           "-t", LEGACY_IMAGE, str(context), timeout=300)  # fmt: skip
    engine = Engine(pulumi_bin, root / "engine")
    engine.install_program(previous)
    try:
        yield Upgrade(engine, test_images)
    finally:
        engine.run("destroy", "--yes", "--skip-preview", "--stack", STACK, check=False)
        remove_labelled(LABEL)
        docker("image", "rm", LEGACY_IMAGE, check=False)


def test_a_stack_of_the_previous_version_moves_to_the_built_app_keeping_its_data(upgrade: Upgrade) -> None:
    engine = upgrade.engine
    engine.init_stack(STACK, {"postgresImage": upgrade.images.postgres})
    made = engine.run("up", "--yes", "--skip-preview", "--stack", STACK)
    TIMINGS.append(("upgrade: up of the previous version (the 0.x stand-in)", made.seconds))
    standin = (inspect(LEGACY_IMAGE, "image") or {})["Id"]
    assert (inspect(API_CONTAINERS[0]) or {})["Image"] == standin, "the previous default: the 0.x image"
    url = engine.outputs(STACK, secrets=True)["databaseUrls"]["workspace"].replace("+psycopg", "", 1)
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE kept (id int PRIMARY KEY)")
        conn.execute("INSERT INTO kept SELECT generate_series(1, 100)")
    volumes = {line for line in docker("volume", "ls", "-q").split() if line.startswith("hive-")}

    engine.install_program()  # this version, over the previous one
    provide_wheels(upgrade.images, engine.program)
    engine.run("config", "set", "--stack", STACK, "hive:apiBaseImage", upgrade.images.python_base)
    steps = engine.preview_steps(STACK)
    # The guard that refuses a change the kept data cannot take is new: created, nothing else of PostgreSQL.
    expected = {"hive-api-image": "replace", "hive-postgres-guard": "create"}
    for mode in MODE_NAMES:
        expected[f"hive-api-{mode}-container"] = "replace"
        expected[f"hive-api-{mode}-health"] = "create"
    assert steps == expected, (
        "the README's Upgrading preview: the image and the three API containers replaced, their health "
        f"waits and the server guard created, nothing else (PostgreSQL, the database objects, the .env files, "
        f"the volumes): {steps}"
    )
    upgraded = engine.run("up", "--yes", "--skip-preview", "--stack", STACK)
    TIMINGS.append(("upgrade: up of this version (builds the image)", upgraded.seconds))
    for name in API_CONTAINERS:
        assert health(name) == "healthy", f"{name} runs the built app, healthy when up returns"
        assert (inspect(name) or {})["Image"] != standin, f"{name} no longer runs the 0.x image"
    owner = docker("exec", API_CONTAINERS[0], "stat", "-c", "%u", "/app/data/state").strip()
    assert owner == "0", "the file 0.x left in the data volume is still root's (the README's chown fixes it)"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (100,), "every row is kept"
    after = {line for line in docker("volume", "ls", "-q").split() if line.startswith("hive-")}
    assert volumes <= after, f"every volume is kept: {volumes - after} went"
    engine.run("up", "--yes", "--expect-no-changes", "--stack", STACK)
