"""The session's throwaway PostgreSQL server, as a pytest fixture.

Imported by the root ``tests/conftest.py``, so that the integration and the
app tiers share one server per test session.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from tests.support.pgserver import REQUIRE_ENV, PgServer, PostgresUnavailable, ThrowawayPostgres


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
    previous = _exit_on_sigterm()
    try:
        try:
            server = cluster.start()
        except BaseException:
            cluster.stop(immediate=True)
            raise
        try:
            yield server
        finally:
            cluster.stop()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm() -> signal.Handlers | None:
    """A plain SIGTERM skips atexit; turn it into SystemExit so the server's
    atexit backstop runs. Only when nobody else handles SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    return signal.SIG_DFL
