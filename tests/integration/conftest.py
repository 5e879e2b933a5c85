"""Integration tier: a real, throwaway PostgreSQL for the whole session.

Tests here are marked ``integration`` (``-m "not integration"`` leaves them
out). Without PostgreSQL server binaries the tier is skipped, with the reason;
with ``HIVE_REQUIRE_POSTGRES=1`` (CI) it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.pgserver import REQUIRE_ENV, PgServer, PostgresUnavailable, ThrowawayPostgres

_HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs a throwaway PostgreSQL server started from the machine's binaries"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but PostgreSQL is unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A fresh PostgreSQL cluster on 127.0.0.1:<free port>, superuser ``postgres``.

    Stopped and deleted at the end of the session, whatever the tests did
    (and by an atexit hook if the session is cut short).
    """
    try:
        cluster = ThrowawayPostgres()
    except PostgresUnavailable as exc:
        _unavailable(str(exc))
    try:
        server = cluster.start()
    except BaseException:
        cluster.stop(immediate=True)
        raise
    try:
        yield server
    finally:
        cluster.stop()
