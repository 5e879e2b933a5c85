"""ApiHealth: how `up` judges an API container while it waits, without Docker (fake inspect and clock)."""

from __future__ import annotations

import base64
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from hive_infra.providers.api_health import (
    CRASH_RESTARTS,
    ApiHealthError,
    ApiHealthProvider,
    inspect_state,
    verdict,
    wait_healthy,
)
from hive_infra.providers.wire import UNKNOWN

NAME = "hive-agents"


def state(status: str = "running", health: str | None = "starting", restarts: int = 0, **extra: Any) -> dict:
    found: dict[str, Any] = {"Status": status, "Running": status == "running", "RestartCount": restarts, **extra}
    if health is not None:
        found["Health"] = {"Status": health, "FailingStreak": extra.get("streak", 0)}
    return found


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run_wait(states: Iterator[Mapping[str, Any] | None], timeout: float = 60) -> Clock:
    clock = Clock()
    wait_healthy(NAME, timeout, inspect=lambda _name: next(states), clock=clock, sleep=clock.sleep)
    return clock


def test_returns_once_healthy() -> None:
    states = iter([state(), state(), state(health="healthy")])
    clock = run_wait(states)
    assert clock.now == pytest.approx(1.0), "polled twice at 0.5 s, then healthy: returns at once"


@pytest.mark.parametrize(
    ("found", "words"),
    [
        (state(status="exited", ExitCode=3), "stopped (exit code 3)"),
        (state(health="unhealthy", streak=3), "unhealthy: its healthcheck failed 3 times in a row"),
        (None, "is gone"),
    ],
)
def test_a_container_that_will_not_turn_healthy_fails_at_once(found: Mapping[str, Any] | None, words: str) -> None:
    with pytest.raises(ApiHealthError) as info:
        run_wait(iter([found]))
    message = str(info.value)
    assert words in message, f"says what is wrong: {message}"
    assert f"`docker logs {NAME}`" in message, f"and how to read why: {message}"


def test_unhealthy_without_a_failure_is_a_restart_not_a_verdict() -> None:
    """Seen under the real engine: an app that exited left its container "unhealthy" with a
    failing streak of 0 while Docker restarted it; the restarts decide, not that word."""
    assert verdict(NAME, state(status="restarting", health="unhealthy", restarts=1)) is None, "restarting once"
    assert verdict(NAME, state(health="unhealthy", restarts=1)) is None, "running again, not probed yet"
    crashed = verdict(NAME, state(status="restarting", health="unhealthy", restarts=2, ExitCode=1))
    assert crashed is not None and "the app does not start" in crashed, "the second exit is the verdict"


def test_an_app_that_keeps_exiting_fails_at_its_second_exit() -> None:
    states = iter(
        [state(), state(status="restarting", restarts=1), state(status="restarting", restarts=CRASH_RESTARTS)]
    )
    with pytest.raises(ApiHealthError) as info:
        run_wait(states)
    assert "exited 2 times while `up` waited for it: the app does not start" in str(info.value), str(info.value)
    assert f"`docker logs {NAME}`" in str(info.value), "and how to read why"


def test_restarts_before_the_wait_do_not_count() -> None:
    """A container an earlier `up` made (the health wait is new to its stack) may have restarted long ago."""
    states = iter([state(restarts=5), state(restarts=6, status="restarting"), state(restarts=6, health="healthy")])
    run_wait(states)  # raises if the five earlier restarts counted
    with pytest.raises(ApiHealthError, match="exited 2 times while `up` waited"):
        run_wait(iter([state(restarts=5), state(restarts=6), state(restarts=7, status="restarting")]))


def test_one_restart_is_waited_through() -> None:
    states = iter([state(status="restarting", restarts=1, ExitCode=1), state(restarts=1), state(health="healthy")])
    run_wait(states)  # raises if the single restart were judged a failure


def test_times_out_naming_the_key_and_the_log() -> None:
    def forever() -> Iterator[dict]:
        while True:
            yield state()

    with pytest.raises(ApiHealthError) as info:
        run_wait(forever(), timeout=5)
    message = str(info.value)
    assert "within 5 s (hive:apiHealthTimeout; its health: starting)" in message, message
    assert f"docker logs {NAME}" in message, message


def test_a_running_container_without_health_is_not_healthy() -> None:
    assert verdict(NAME, state(health=None)) is None, "no healthcheck reported yet: keep waiting"
    assert verdict(NAME, state(status="exited", health="healthy")) is not None, "a stopped container is not healthy"


def test_a_new_container_is_waited_for_again_and_a_new_timeout_is_not() -> None:
    provider = ApiHealthProvider()
    olds = {"container": NAME, "containerId": "a1", "timeout": 180}
    assert provider.diff(NAME, olds, {**olds, "containerId": "b2"}).replaces == ["containerId"], "a replaced container"
    assert provider.diff(NAME, olds, {**olds, "containerId": UNKNOWN}).replaces == ["containerId"], (
        "in a preview, a container being replaced has no id yet: the wait is planned again"
    )
    changed = provider.diff(NAME, olds, {**olds, "timeout": 60})
    assert changed.changes and not changed.replaces, "a new timeout is recorded, nothing is waited for"
    assert not provider.diff(NAME, olds, dict(olds)).changes, "the same container: no change"


def fake_docker(tmp_path: Path, script: str) -> str:
    path = tmp_path / "docker"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_inspect_reads_the_state_and_the_restart_count_beside_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What `docker inspect --format INSPECT_FORMAT` printed for a crashing app on Docker 20.10.
    printed = '{"State": {"Status":"running","Running":true,"Restarting":false,"ExitCode":0}, "RestartCount": 2}'
    monkeypatch.setenv("HIVE_DOCKER", fake_docker(tmp_path, f"echo '{printed}'"))
    found = inspect_state(NAME)
    assert found is not None and found["RestartCount"] == 2 and found["Status"] == "running", found
    assert verdict(NAME, found) == f"{NAME} exited 2 times while `up` waited for it: the app does not start", (
        "Docker keeps RestartCount beside State, not in it: without it a crash loop ran to the timeout"
    )


def test_inspect_of_a_missing_container_or_a_silent_daemon(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HIVE_DOCKER", fake_docker(tmp_path, f"echo 'Error: No such container: {NAME}' >&2; exit 1"))
    assert inspect_state(NAME) is None, "no such container: None, which the verdict calls gone"
    monkeypatch.setenv("HIVE_DOCKER", fake_docker(tmp_path, "echo 'Cannot connect to the Docker daemon' >&2; exit 1"))
    with pytest.raises(ApiHealthError, match="Cannot connect to the Docker daemon"):
        inspect_state(NAME)


def test_the_provider_pickles_by_reference(tmp_path: Path) -> None:
    raw = base64.b64decode(serialize_provider(ApiHealthProvider()))  # the SDK's own code path
    assert len(raw) < 200 and b"hive_infra.providers.api_health" in raw, f"pickled by reference, got {len(raw)} bytes"
    for path in (str(tmp_path), os.getcwd(), sys.prefix):
        assert path.encode() not in raw, f"the pickle must not hold the machine path {path}"
    assert type(dill.loads(raw)) is ApiHealthProvider, "it loads back as the class the state names"
