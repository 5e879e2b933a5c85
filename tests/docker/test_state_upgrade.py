"""A default stack made before the reorganisation of issue #21, imported and previewed by this code.

The program at ``COMMIT`` (1cdf9f3, the last before the move; taken from git)
brings up the default stack on Docker: PostgreSQL, the built API image, three
API containers and their health waits, the .env files. Its state is exported
and the stack removed from the backend (its resources left running); today's
program replaces the old one in the same project folder, as a user upgrades,
and the export is imported and previewed: the same URNs, no diff, with every resource
live; the only step is the creation of the ServerGuard, new in issue #28. After one
``up``, ``up --expect-no-changes`` agrees, and the destroy runs through
the providers the state pickled by their old module paths (the backup taken
first, as ever). The engine tier's ``test_state_upgrade`` does the same from a
stored export, without Docker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hive_infra.core.modes import MODES
from hive_infra.core.names import DockerNames, stack_label_value
from tests.docker.conftest import TIMINGS
from tests.support.dockerlib import (
    TierImages,
    docker,
    health,
    provide_wheels,
    refuse_if_taken,
    remove_labelled,
    stack_config,
)
from tests.support.engine import CommitUnavailable, Engine, changed_steps, program_at

COMMIT = "1cdf9f3efada39759e96bcda2c47eabd0a4766b9"
STACK = "statetier"
LABEL = stack_label_value("hive", STACK)
NAMES = DockerNames("hive")
API_CONTAINERS = [NAMES.api_container(mode) for mode in MODES.values()]
PORTS = (5532, 8886, 38886, 48886)


@dataclass
class Move:
    engine: Engine
    images: TierImages
    before: Path


@pytest.fixture(scope="module")
def move(pulumi_bin: Path, test_images: TierImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Move]:
    refuse_if_taken(PORTS, [NAMES.postgres_container, *API_CONTAINERS], LABEL)
    root = tmp_path_factory.mktemp("state-tier")
    try:
        before = program_at(COMMIT, root / "program")
    except CommitUnavailable as exc:
        pytest.skip(f"the version before the move: {exc}")
    engine = Engine(pulumi_bin, root / "engine")
    try:
        yield Move(engine, test_images, before)
    finally:
        engine.run("destroy", "--yes", "--skip-preview", "--stack", STACK, check=False)
        remove_labelled(LABEL)


def test_a_default_stack_of_before_the_move_imports_and_previews_with_no_change(move: Move) -> None:
    engine = move.engine
    engine.install_program(move.before)
    provide_wheels(move.images, engine.program)
    engine.init_stack(STACK, stack_config(move.images))
    made = engine.run("up", "--yes", "--skip-preview", "--stack", STACK)
    TIMINGS.append(("state proof: up of the stack before the move", made.seconds))
    engine.take_over(STACK, lambda program: provide_wheels(move.images, program))
    preview = engine.run("preview", "--stack", STACK, "--json", check=False)
    changed = changed_steps(preview, reasons=True)
    # The ServerGuard (issue #28) is the one resource that is new: nothing else moves or changes.
    assert preview.code == 0 and changed == {"hive-postgres-guard": "create ()"}, (
        f"today's program must see the stack of before the move as it is: {changed}\n{preview.stderr[-1500:]}"
    )
    summary = preview.json().get("changeSummary", {})
    assert set(summary) == {"same", "create"} and summary["same"] >= 30, (
        f"every resource of the default stack (about thirty) declared again, unchanged: {summary}"
    )
    engine.run("up", "--yes", "--skip-preview", "--stack", STACK)
    engine.run("up", "--yes", "--expect-no-changes", "--stack", STACK)
    for name in API_CONTAINERS:
        assert health(name) == "healthy", f"{name} is untouched by the upgrade and still healthy"

    gone = engine.run("destroy", "--yes", "--skip-preview", "--stack", STACK)
    TIMINGS.append(("state proof: destroy through the old pickles", gone.seconds))
    manifests = list((engine.program / "backups").glob("*/manifest.json"))
    assert "backup before destroy: 3 database(s)" in gone.output and len(manifests) == 1, (
        f"the destroy ran the backup's delete, pickled by its old module path: {manifests}\n{gone.output[-1500:]}"
    )
    left = [n for n in docker("ps", "-a", "--format", "{{.Names}}").split() if n in API_CONTAINERS]
    assert not left, f"the destroy removed every container the stack made: {left}"
