"""Docker tier: the default stack under the real Pulumi CLI on a real Docker engine.

Tests here are marked ``docker`` (``-m docker`` selects them). They need a Docker
engine that answers (``.ci/run`` starts one), the Pulumi engine (``make engine``)
and the test images (``make images``; built here when missing, never pulled).
Without the engine or the images the tier is skipped with the reason; with
``HIVE_REQUIRE_DOCKER=1`` (``.ci/run``) it fails instead.
"""

from __future__ import annotations

import pytest

from tests.support.dockerlib import REQUIRE_ENV, DockerUnavailable, TierImages, build_images, engine_answers
from tests.support.require import report_timings, unavailable

#: Wall-clock seconds of the tier's steps, printed at the end of the session.
TIMINGS: list[tuple[str, float]] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report_timings(terminalreporter, "docker tier", TIMINGS)


@pytest.fixture(scope="session")
def test_images() -> TierImages:
    """The tier's local images (built on first use, then reused); a Docker engine must answer."""
    why = engine_answers()
    if why is not None:
        unavailable(REQUIRE_ENV, f"no Docker engine answers: {why}")
    try:
        images = build_images()
    except DockerUnavailable as exc:
        unavailable(REQUIRE_ENV, f"the test images cannot be built: {exc}")
    TIMINGS.append((f"test images {'built' if images.built else 'reused'}", images.seconds))
    return images
