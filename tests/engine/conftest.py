"""Engine tier: the real Pulumi CLI and plugins, built from Go modules.

Tests here are marked ``engine`` (``-m "not engine"`` leaves them out). When
the engine is not built (``scripts/build-pulumi.sh``) the tier is skipped with
the reason; with ``HIVE_REQUIRE_PULUMI=1`` (``.ci/run``, which builds it) it
fails instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.engine import REQUIRE_ENV, EngineUnavailable, engine_bin


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    try:
        return engine_bin()
    except EngineUnavailable as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but the Pulumi engine is unavailable: {exc}", pytrace=False)
        pytest.skip(f"Pulumi engine unavailable: {exc}")
