"""App tier: the real automagik-hive from PyPI against a throwaway PostgreSQL.

Tests here are marked ``app`` (``-m "not app"`` leaves them out). The app is
installed once into its own venv under ``${XDG_CACHE_HOME:-~/.cache}/hive-infra/app-venv/<hash>``
(pins: ``hive_infra/image/constraints-app.txt``). When it cannot be installed (no network) the
tier is skipped, with the reason; with ``HIVE_REQUIRE_APP=1`` it fails instead.
PostgreSQL comes from the session's ``pg_server`` fixture (skipped or failed
the same way, by ``HIVE_REQUIRE_POSTGRES``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hive_app import REQUIRE_ENV as REQUIRE_APP_ENV
from tests.support.hive_app import TIMINGS, AppUnavailable, AppVenv, create_project, ensure_app_venv
from tests.support.require import report_timings, unavailable


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report_timings(terminalreporter, "hive app tier", TIMINGS)


@pytest.fixture(scope="session")
def app_venv() -> AppVenv:
    """The pinned app in its own venv (built on first use, then reused)."""
    try:
        venv = ensure_app_venv()
    except AppUnavailable as exc:
        unavailable(REQUIRE_APP_ENV, f"automagik-hive cannot be installed: {exc}")
    TIMINGS.append((f"app venv {'built' if venv.built else 'reused'} ({venv.path})", venv.seconds))
    return venv


@pytest.fixture(scope="session")
def hive_project(app_venv: AppVenv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project made by the app's CLI; every server runs in a copy of it."""
    return create_project(app_venv, tmp_path_factory.mktemp("hive-project"))
