"""Integration tier: a real, throwaway PostgreSQL (``pg_server``, defined in
``tests/integration/fixtures.py`` and shared with the app tier through the
root conftest).

Tests here are marked ``integration`` (``-m "not integration"`` leaves them
out). Without PostgreSQL server binaries the tier is skipped, with the reason;
with ``HIVE_REQUIRE_POSTGRES=1`` (CI) it fails instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs a throwaway PostgreSQL server started from the machine's binaries"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)
