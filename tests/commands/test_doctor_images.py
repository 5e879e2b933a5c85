"""doctor's image checks: each image the stack runs or builds on is present here or pullable,
else a FAIL naming it and the fix (``make local-images`` only for a stack with no data)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from hive_infra.commands.contract import Context
from hive_infra.commands.doctor import images, probe
from hive_infra.commands.doctor.checks import FAIL, OK, PulumiFacts
from hive_infra.commands.doctor.images import ImageFacts, StackData
from hive_infra.config import parse_config
from tests.commands import test_doctor
from tests.commands.test_doctor import Doctor, FakeDocker, one_stack

PG, BASE = "agnohq/pgvector:16", "python:3.11-slim"
VOLUME = "hive-postgres-data"
NO_DATA = StackData(resources=0, volume_exists=False)
#: test_doctor's fixture: a project folder, a fake pulumi and this machine's ports.
doctor = test_doctor.doctor


class ImageNotFound(Exception):
    """Named as the Docker SDK's, which the probe recognises by name."""


class NotFound(Exception):
    """Named as the Docker SDK's."""


class APIError(Exception):
    """As the Docker SDK's: the engine's own explanation beside a message naming the URL."""

    def __init__(self, explanation: str) -> None:
        super().__init__(f"500 Server Error for http+docker://localhost/v1.41/distribution/x/json: {explanation}")
        self.explanation = explanation


class FakeImageDocker(FakeDocker):
    """A Docker client whose images are ``present``; a missing one's registry answers when it
    is in ``pullable``, else fails as an unresolvable registry does."""

    def __init__(self, present: set[str], pullable: set[str] = frozenset(), volumes: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        super().__init__()
        self.present, self.pullable, self.volume_names = present, pullable, volumes
        self.images, self.volumes = self, self
        self.registry_asked: list[str] = []

    def get(self, name: str) -> Any:
        if name in self.present or name in self.volume_names:
            return object()
        raise (NotFound if name.startswith("hive-") and ":" not in name else ImageNotFound)(name)

    def get_registry_data(self, name: str) -> Any:
        self.registry_asked.append(name)
        if name not in self.pullable:
            raise APIError(f"Get https://registry-1.docker.io/v2/: lookup registry-1.docker.io: no such host ({name})")
        return object()


def verdict_lines(facts: dict[str, ImageFacts], data: StackData = NO_DATA, **config: str) -> list[str]:
    cfg = parse_config(config, sorted(config))
    return [v.line() for v in images.check_images(cfg, facts, data, "dev", VOLUME)]


def test_an_image_present_here_is_ok() -> None:
    lines = verdict_lines({PG: ImageFacts(True), BASE: ImageFacts(True)})
    assert lines == [
        f"ok   image {PG}: (postgresImage) present here",
        f"ok   image {BASE}: (apiBaseImage) present here",
    ]


def test_an_image_its_registry_answers_for_is_ok() -> None:
    lines = verdict_lines({PG: ImageFacts(False), BASE: ImageFacts(True)})
    assert lines[0].startswith(f"ok   image {PG}: (postgresImage) not here; its registry answers"), lines


def test_a_default_image_neither_here_nor_pullable_on_a_stack_with_no_data_names_local_images() -> None:
    lines = verdict_lines({PG: ImageFacts(False, "no such host"), BASE: ImageFacts(False, "no such host")})
    assert len(lines) == 2 and all(x.startswith(f"{FAIL} image ") for x in lines), lines
    assert all("fix: make local-images STACK=dev" in x for x in lines), f"the stand-ins are safe with no data: {lines}"
    assert f"image {PG}: (postgresImage) not here, and it cannot be pulled: no such host" in lines[0]


@pytest.mark.parametrize(
    ("data", "config", "why"),
    [
        (StackData(47, True), {}, "47 resources in its state"),
        (StackData(0, True), {}, f"the volume {VOLUME}"),
        (NO_DATA, {"dataPath": "/srv/pg", "adminPassword": "a" * 20}, "dataPath /srv/pg"),
        (StackData(None, None), {}, "could not be told"),
    ],
)
def test_a_default_image_neither_here_nor_pullable_on_a_stack_with_data_is_not_given_other_images(
    data: StackData, config: dict[str, str], why: str
) -> None:
    lines = verdict_lines({PG: ImageFacts(False, "no such host"), BASE: ImageFacts(True)}, data, **config)
    assert lines[0].startswith(f"{FAIL} image {PG}: (postgresImage) not here, and it cannot be pulled"), lines
    assert "fix: make it available here" in lines[0] and why in lines[0], lines[0]
    assert "fix: make local-images" not in lines[0], "PostgreSQL 17 must not meet data made by another major"


def test_a_set_api_image_is_checked_and_the_base_is_not() -> None:
    lines = verdict_lines({PG: ImageFacts(True), "me/api:1": ImageFacts(False, "denied")}, apiImage="me/api:1")
    assert lines[1].startswith(f"{FAIL} image me/api:1: (apiImage)") and "set hive:apiImage" in lines[1], lines
    assert not any(BASE in x for x in lines), "a set apiImage builds nothing on the base"


def test_the_probe_asks_the_registry_only_for_an_image_not_here(tmp_path: Path) -> None:
    client = FakeImageDocker(present={PG}, pullable={BASE})
    machine = Context(io.StringIO(), io.StringIO(), docker_factory=client, project_dir=tmp_path)
    facts = probe.image_facts(machine, [PG, BASE, "gone:1"])
    assert facts[PG] == ImageFacts(True) and facts[BASE] == ImageFacts(False), facts
    why = facts["gone:1"].pull_error or ""
    assert not facts["gone:1"].present and "no such host" in why and "500 Server Error" not in why, facts
    assert client.registry_asked == [BASE, "gone:1"], "nothing is asked of a registry for an image present here"
    no_cli = PulumiFacts(None)
    assert probe.stack_data(machine, no_cli, "dev", VOLUME) == StackData(None, False)
    with_volume = Context(io.StringIO(), io.StringIO(), docker_factory=FakeImageDocker(set(), volumes={VOLUME}))
    assert probe.stack_data(with_volume, no_cli, "dev", VOLUME).volume_exists is True


def test_doctor_fails_on_an_image_it_cannot_get_naming_it(doctor: Doctor) -> None:
    code, lines = doctor.with_pulumi(one_stack()).run(docker=FakeImageDocker(present={BASE}))
    assert code == 1, f"up would fail pulling it: {lines}"
    failed = [x for x in lines if x.startswith(FAIL)]
    assert len(failed) == 1 and failed[0].startswith(f"{FAIL} image {PG}: (postgresImage)"), lines
    assert f"{OK}   image {BASE}: (apiBaseImage) present here" in lines
