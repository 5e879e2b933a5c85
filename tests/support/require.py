"""The one way a tier meets a missing prerequisite: skipped with the reason, or
failed when the tier's ``HIVE_REQUIRE_<X>=1`` says the run provides it (CI does)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(require_env: str, why: str) -> NoReturn:
    """Skip the test for ``why``, or fail it when ``require_env`` is ``1``."""
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{require_env}=1 but {why}", pytrace=False)
    pytest.skip(why)
