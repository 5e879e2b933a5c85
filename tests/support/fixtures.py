"""The session fixtures more than one tier uses: the throwaway PostgreSQL server
(the integration and app tiers share one per session) and the real Pulumi CLI (the
engine, Docker and Kubernetes tiers). Imported by the root ``tests/conftest.py``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import engine, pgserver
from tests.support.pgserver import PgServer, PostgresUnavailable, ThrowawayPostgres
from tests.support.require import unavailable


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A fresh PostgreSQL cluster on 127.0.0.1:<free port>, superuser ``postgres``.

    Stopped and deleted at the end of the session, whatever the tests did
    (and by an atexit hook if the session is cut short).
    """
    try:
        cluster = ThrowawayPostgres()
    except PostgresUnavailable as exc:
        unavailable(pgserver.REQUIRE_ENV, f"PostgreSQL is unavailable: {exc}")
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


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    """The Pulumi CLI built by ``make engine`` (``scripts/build-pulumi.sh``)."""
    try:
        return engine.engine_bin()
    except engine.EngineUnavailable as exc:
        unavailable(engine.REQUIRE_ENV, f"the Pulumi engine is unavailable: {exc}")
