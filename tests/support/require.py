"""What every tier's conftest shares: the one way a tier meets a missing prerequisite
(skipped with the reason, or failed when the tier's ``HIVE_REQUIRE_<X>=1`` says the run
provides it, as CI does), and the report of its steps' timings."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(require_env: str, why: str) -> NoReturn:
    """Skip the test for ``why``, or fail it when ``require_env`` is ``1``."""
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{require_env}=1 but {why}", pytrace=False)
    pytest.skip(why)


def report_timings(terminalreporter: pytest.TerminalReporter, tier: str, timings: list[tuple[str, float]]) -> None:
    """A tier's wall-clock seconds per step, printed at the end of the session (its conftest's
    ``pytest_terminal_summary``)."""
    if timings:
        terminalreporter.write_sep("-", f"{tier} timings")
        for what, seconds in timings:
            terminalreporter.write_line(f"{seconds:7.1f} s  {what}")
