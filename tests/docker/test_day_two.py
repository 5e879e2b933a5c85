"""Day two of the default stack, under the real Pulumi CLI on a real Docker engine (issue #28).

One stack (``daytwo``, label ``hive/daytwo``) lives through what its users do after
``up``: a rebuilt PostgreSQL image, a new major and a new admin password refused,
PostgreSQL and an API stopped by hand, the built API image and the API containers
removed. Each repair is the command doctor prints (``make repair STACK=daytwo``
runs ``python -m hive_infra repair --stack daytwo``; ``--yes`` is what ``YES=1``
adds), and each ends with every container healthy, every row kept and ``up
--expect-no-changes`` passing. The tests run in order and build on each other.
The images these tests derive from the tier's PostgreSQL image are built here
(``docker build`` from a local image: nothing is pulled) and removed at the end.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from hive_infra.core.modes import MODES
from hive_infra.core.names import DockerNames, stack_label_value
from tests.docker.conftest import TIMINGS
from tests.support.dockerlib import (
    TierImages,
    docker,
    health,
    inspect,
    provide_wheels,
    refuse_if_taken,
    remove_labelled,
    stack_config,
)
from tests.support.engine import Engine, Result, changed_steps

STACK = "daytwo"
LABEL = stack_label_value("hive", STACK)
NAMES = DockerNames("hive")
POSTGRES = NAMES.postgres_container
APIS = {mode: NAMES.api_container(MODES[mode]) for mode in ("workspace", "agent", "genie")}
ALL = (POSTGRES, *APIS.values())
PORTS = (5532, 8886, 38886, 48886)
USER_LINE = "MY_MODEL_KEY=sk-mine-not-the-stacks\n"
ROWS = 40


@dataclass
class Day:
    engine: Engine
    images: TierImages
    #: Images the tests built, removed at the end.
    built: list[str] = field(default_factory=list)

    def pulumi(self, *args: str, check: bool = True) -> Result:
        result = self.engine.run(*args, "--stack", STACK, check=check, timeout=900)
        TIMINGS.append((f"day two: pulumi {' '.join(a for a in args if not a.startswith('--'))}", result.seconds))
        return result

    def derived_image(self, why: str, *lines: str) -> str:
        """A new image (a new id) on the tier's PostgreSQL image, built here."""
        tag = f"hive-tier/postgres-{why}:{uuid.uuid4().hex[:8]}"
        dockerfile = "\n".join([f"FROM {self.images.postgres}", f"LABEL org.automagik-hive.test={why}", *lines])
        docker("build", "-q", "-t", tag, "-", stdin=dockerfile + "\n", timeout=300)
        self.built.append(tag)
        return tag

    def urls(self) -> dict[str, str]:
        return dict(self.engine.outputs(STACK, secrets=True)["databaseUrls"])

    def repair(self) -> Result:
        """What `make repair STACK=daytwo YES=1` runs."""
        result = self.engine.hive("repair", "--stack", STACK, "--yes", timeout=900)
        TIMINGS.append(("day two: repair", result.seconds))
        return result

    def doctor(self) -> str:
        return self.engine.hive("doctor", "--stack", STACK, check=False).output


@pytest.fixture(scope="module")
def day(pulumi_bin: Path, test_images: TierImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    refuse_if_taken(PORTS, ALL, LABEL)
    engine = Engine(pulumi_bin, tmp_path_factory.mktemp("day-two"))
    provide_wheels(test_images, engine.program)
    (engine.program / ".env").write_text(USER_LINE)
    found = Day(engine, test_images)
    try:
        yield found
    finally:
        engine.run("destroy", "--yes", "--skip-preview", "--stack", STACK, check=False, timeout=600)
        remove_labelled(LABEL)
        for tag in found.built:
            docker("rmi", tag, check=False)


def libpq(url: str) -> str:
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


def rows(urls: dict[str, str]) -> dict[str, int]:
    """The rows of each mode's own table, read through its URL as the app logs in."""
    found = {}
    for mode, url in urls.items():
        with psycopg.connect(libpq(url)) as conn:
            found[mode] = int((conn.execute("SELECT count(*) FROM day_two").fetchone() or (0,))[0])
    return found


def assert_whole(day: Day, what: str) -> None:
    """Healthy, every row, the user's line, and nothing left for `up` to do."""
    states = {name: health(name) for name in ALL}
    assert set(states.values()) == {"healthy"}, f"{what}: every container healthy: {states}"
    assert rows(day.urls()) == dict.fromkeys(APIS, ROWS), f"{what}: every row of every mode kept"
    assert USER_LINE.strip() in (day.engine.program / ".env").read_text(), f"{what}: the user's own line kept"
    day.pulumi("up", "--yes", "--expect-no-changes", "--skip-preview")


def ids() -> dict[str, str]:
    return {name: (inspect(name) or {}).get("Id", "") for name in ALL}


def refused(result: Result, *words: str) -> str:
    assert result.code != 0, f"refused:\n{result.output[-2000:]}"
    text = result.output
    missing = [w for w in words if w not in text]
    assert not missing, f"the refusal names {missing}:\n{result.failure_text()}"
    return text


def test_up_with_rows_in_every_mode(day: Day) -> None:
    day.engine.init_stack(STACK, stack_config(day.images))
    day.pulumi("up", "--yes", "--skip-preview")
    for url in day.urls().values():
        with psycopg.connect(libpq(url)) as conn:
            conn.execute("CREATE TABLE day_two (n int)")
            conn.execute("INSERT INTO day_two SELECT generate_series(1, %s)", (ROWS,))
    assert rows(day.urls()) == dict.fromkeys(APIS, ROWS), "each mode's rows, in its own database"


def test_a_rebuilt_postgres_image_replaces_only_the_container(day: Day) -> None:
    rebuilt = day.derived_image("rebuilt")
    before = ids()
    day.engine.run("config", "set", "--stack", STACK, "hive:postgresImage", rebuilt)
    planned = changed_steps(day.pulumi("preview", "--json"))
    assert set(planned) == {"hive-postgres-guard", "hive-postgres-image", "hive-postgres-container"}, (
        f"a new image of the same PostgreSQL replaces the container on the same data and nothing in it: {planned}"
    )
    day.pulumi("up", "--yes", "--skip-preview")
    after = ids()
    assert after[POSTGRES] != before[POSTGRES], "a new container, on the rebuilt image"
    assert {n: after[n] for n in APIS.values()} == {n: before[n] for n in APIS.values()}, "the APIs untouched"
    assert_whole(day, "after the rebuilt image")


def test_a_new_postgres_major_is_refused_with_nothing_touched(day: Day) -> None:
    current = day.engine.run("config", "get", "--stack", STACK, "hive:postgresImage").stdout.strip()
    other_major = day.derived_image("major", "ENV PG_MAJOR=16")
    before = ids()
    day.engine.run("config", "set", "--stack", STACK, "hive:postgresImage", other_major)
    for command in (("preview",), ("up", "--yes")):
        refused(day.pulumi(*command, check=False), "PostgreSQL 16", "PostgreSQL 17", "db dump", "db restore")
    assert ids() == before, "refused before anything was replaced"
    day.engine.run("config", "set", "--stack", STACK, "hive:postgresImage", current)
    assert_whole(day, "after the refused major")


def test_a_new_admin_password_is_refused_with_nothing_touched(day: Day) -> None:
    before = ids()
    day.engine.run("config", "set", "--secret", "--stack", STACK, "hive:adminPassword", stdin="A-new-Adm1n-passw0rd-9")
    result = day.pulumi("preview", check=False)
    text = refused(result, "hive:adminPassword", "ALTER ROLE")
    assert "A-new-Adm1n-passw0rd-9" not in text, "never the password in the refusal"
    day.engine.run("config", "rm", "--stack", STACK, "hive:adminPassword")
    assert ids() == before, "nothing replaced"
    assert_whole(day, "after the refused password")


def test_a_stopped_postgres_is_started_by_doctors_fix(day: Day) -> None:
    before = ids()
    docker("stop", POSTGRES)
    said = day.doctor()
    fix = f"fix: make repair STACK={STACK}"
    assert f"warn container {POSTGRES}: this stack's container is exited" in said and fix in said, (
        f"doctor names the stopped server and the command that repairs it:\n{said}"
    )
    api = APIS["workspace"]
    assert f"warn container {api}: its API answers, but cannot reach its database: {POSTGRES}:5432" in said, (
        f"and says the APIs cannot reach it, naming the server:\n{said}"
    )
    made = day.repair()
    assert f"repair: started {POSTGRES}" in made.output, made.output[-2000:]
    assert ids() == before, "started again, not replaced: the same containers"
    assert_whole(day, "after the stopped PostgreSQL")


def test_a_stopped_api_is_started_not_replaced(day: Day) -> None:
    api = APIS["agent"]
    before = ids()
    docker("stop", api)
    assert f"fix: make repair STACK={STACK}" in day.doctor(), "doctor leads to the repair"
    day.repair()
    assert ids() == before, "the same container, started"
    assert_whole(day, "after the stopped API")


def test_the_built_image_and_the_api_containers_removed_are_made_again_here(day: Day) -> None:
    image_id = (inspect(APIS["workspace"]) or {})["Image"]
    # The stack's own tag: the same image may carry others (a Kubernetes stack's push tags it for
    # its registry), which doctor rightly does not count as the stack's.
    tags = (inspect(image_id, "image") or {}).get("RepoTags") or []
    tag = next((t for t in tags if t.startswith("hive-infra/hive-api:")), None)
    assert tag, f"the image the stack built carries its own tag: {tags}"
    docker("rm", "-f", *APIS.values())
    docker("rmi", tag)
    said = day.doctor()
    assert f"warn image {tag}: the API image this stack built is gone" in said, said
    assert f"warn container {APIS['genie']}: this stack's container is gone" in said, said
    day.repair()
    assert inspect(tag, "image") is not None, "the same tag, built again here (nothing can be pulled)"
    assert_whole(day, "after the removed image and containers")
