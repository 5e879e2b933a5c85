"""A default stack of the previous version on its day two, under the real CLI and Docker (issue #28).

The previous version (``PREVIOUS``, from git) recorded every database object as
deleted with the PostgreSQL container. Its stack, upgraded to this version, must
not replace the objects with the container: an image change in the very first
``up`` is refused before anything changes (the engine decides from the old
record); a stack the previous version itself left stuck ("role already exists",
objects pending a replacement) is made whole by ``make repair`` (``python -m
hive_infra repair``); after that a rebuilt image replaces only the container.
Every row and the user's line survive each step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hive_infra.core.names import stack_label_value
from tests.docker.conftest import TIMINGS
from tests.docker.test_day_two import ALL, PORTS, POSTGRES, ROWS, USER_LINE, Day, ids, libpq, refused, rows
from tests.support.dockerlib import (
    TierImages,
    docker,
    health,
    provide_wheels,
    refuse_if_taken,
    remove_labelled,
    stack_config,
)
from tests.support.engine import CommitUnavailable, Engine, Result, changed_steps, program_at

#: The last commit of the version before the ServerGuard.
PREVIOUS = "a331d49b5d4eb9b239bd9d9abe6eaf08cb60b89a"
STACK = "daytwoold"
LABEL = stack_label_value("hive", STACK)


@dataclass
class Upgrade:
    day: Day
    previous: Path

    def pulumi(self, *args: str, check: bool = True) -> Result:
        result = self.day.engine.run(*args, "--stack", STACK, check=check, timeout=900)
        words = " ".join(a for a in args if not a.startswith("--"))
        TIMINGS.append((f"day two upgrade: pulumi {words}", result.seconds))
        return result

    def program(self, source: Path | None = None) -> None:
        """The previous program (``source``) or today's in the same project folder, as a user switches."""
        self.day.engine.install_program(*(() if source is None else (source,)))
        provide_wheels(self.day.images, self.day.engine.program)

    def set_image(self, tag: str) -> None:
        self.day.engine.run("config", "set", "--stack", STACK, "hive:postgresImage", tag)

    def urls(self) -> dict[str, str]:
        return dict(self.day.engine.outputs(STACK, secrets=True)["databaseUrls"])

    def assert_whole(self, what: str) -> None:
        states = {name: health(name) for name in ALL}
        assert set(states.values()) == {"healthy"}, f"{what}: every container healthy: {states}"
        assert rows(self.urls()) == {"workspace": ROWS, "agent": ROWS, "genie": ROWS}, f"{what}: every row"
        assert USER_LINE.strip() in (self.day.engine.program / ".env").read_text(), f"{what}: the user's line"
        self.pulumi("up", "--yes", "--expect-no-changes", "--skip-preview")


@pytest.fixture(scope="module")
def upgrade(pulumi_bin: Path, test_images: TierImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upgrade]:
    refuse_if_taken(PORTS, ALL, LABEL)
    root = tmp_path_factory.mktemp("day-two-upgrade")
    try:
        previous = program_at(PREVIOUS, root / "previous")
    except CommitUnavailable as exc:
        pytest.skip(f"the previous version: {exc}")
    engine = Engine(pulumi_bin, root / "engine")
    (engine.program / ".env").write_text(USER_LINE)
    found = Upgrade(Day(engine, test_images), previous)
    try:
        yield found
    finally:
        engine.run("destroy", "--yes", "--skip-preview", "--stack", STACK, check=False, timeout=600)
        remove_labelled(LABEL)
        for tag in found.day.built:
            docker("rmi", tag, check=False)


def test_the_previous_version_brings_up_the_stack_with_rows(upgrade: Upgrade) -> None:
    import psycopg

    upgrade.program(upgrade.previous)
    upgrade.day.engine.init_stack(STACK, stack_config(upgrade.day.images))
    upgrade.pulumi("up", "--yes", "--skip-preview")
    for url in upgrade.urls().values():
        with psycopg.connect(libpq(url)) as conn:
            conn.execute("CREATE TABLE day_two (n int)")
            conn.execute("INSERT INTO day_two SELECT generate_series(1, %s)", (ROWS,))


def test_an_image_change_in_the_first_up_after_upgrading_is_refused(upgrade: Upgrade) -> None:
    upgrade.program()
    rebuilt = upgrade.day.derived_image("rebuilt")
    before = ids()
    upgrade.set_image(rebuilt)
    for command in (("preview",), ("up", "--yes")):
        refused(upgrade.pulumi(*command, check=False), "before the ServerGuard", "run pulumi up once")
    assert ids() == before, "refused before anything changed: the old record would have replaced every object"
    upgrade.set_image(upgrade.day.images.postgres)


def test_a_stack_the_previous_version_left_stuck_is_made_whole_by_make_repair(upgrade: Upgrade) -> None:
    upgrade.program(upgrade.previous)
    upgrade.set_image(upgrade.day.derived_image("stuck"))
    failed = upgrade.pulumi("up", "--yes", "--skip-preview", check=False)
    assert failed.code != 0 and "already exists" in failed.output, (
        f"the previous version replaces the objects with the container and fails (issue #28):\n{failed.output[-1500:]}"
    )
    upgrade.program()
    made = upgrade.day.engine.hive("repair", "--stack", STACK, "--yes", timeout=900)
    assert "marked as existing again" in made.output, f"the objects freed, the state kept first:\n{made.output[-2000:]}"
    upgrade.assert_whole("after make repair of the stuck stack")


def test_after_the_first_up_a_rebuilt_image_replaces_only_the_container(upgrade: Upgrade) -> None:
    upgrade.set_image(upgrade.day.derived_image("after"))
    planned = changed_steps(upgrade.pulumi("preview", "--json"))
    assert set(planned) == {"hive-postgres-guard", "hive-postgres-image", "hive-postgres-container"}, planned
    before = ids()
    upgrade.pulumi("up", "--yes", "--skip-preview")
    assert ids()[POSTGRES] != before[POSTGRES], "a new container on the same data"
    upgrade.assert_whole("after the rebuilt image")
