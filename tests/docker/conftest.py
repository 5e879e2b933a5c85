"""Docker tier: the default stack under the real Pulumi CLI on a real Docker engine.

Tests here are marked ``docker`` (``-m docker`` selects them). They need a Docker
engine that answers (``.ci/run`` starts one), the Pulumi engine (``make engine``)
and the test images (``make images``; built here when missing, never pulled).
Without the engine or the images the tier is skipped with the reason; with
``HIVE_REQUIRE_DOCKER=1`` (``.ci/run``) it fails instead.
"""

from __future__ import annotations

import os

import pytest

from tests.engine.conftest import pulumi_bin  # noqa: F401 - the real CLI the engine tier uses
from tests.support.dockerlib import REQUIRE_ENV, DockerUnavailable, TierImages, build_images, engine_answers

#: Wall-clock seconds of the tier's steps, printed at the end of the session.
TIMINGS: list[tuple[str, float]] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.write_sep("-", "docker tier timings")
        for what, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f} s  {what}")


def _unavailable(why: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def test_images() -> TierImages:
    """The tier's local images (built on first use, then reused); a Docker engine must answer."""
    why = engine_answers()
    if why is not None:
        _unavailable(f"no Docker engine answers: {why}")
    try:
        images = build_images()
    except DockerUnavailable as exc:
        _unavailable(f"the test images cannot be built: {exc}")
        raise
    TIMINGS.append((f"test images {'built' if images.built else 'reused'}", images.seconds))
    return images
