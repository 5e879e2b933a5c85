"""The tests' fixtures and tier markers; the machinery itself is in ``tests/support``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pulumi
import pytest

from tests.support.fixtures import pg_server, pulumi_bin  # noqa: F401 - shared by the tiers that need them
from tests.support.program import ProgramRun, run_program

#: The folders of the slower tiers and their markers (registered in pyproject.toml),
#: so that `pytest -m "not app"` and the like select by tier.
TIER_FOLDERS = ("integration", "app", "engine", "docker", "kubernetes")
TESTS_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of a tier's folder with the tier's marker."""
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if TESTS_DIR in path.parents:
            folder = path.relative_to(TESTS_DIR).parts[0]
            if folder in TIER_FOLDERS:
                item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture
def program() -> Callable[..., ProgramRun]:
    return run_program


@pytest.fixture(autouse=True)
def _isolate_pulumi_config() -> Iterator[None]:
    yield
    pulumi.runtime.set_all_config({}, [])


sys.dont_write_bytecode = True
