"""The module paths stored in stacks' state stay importable after the move of issue #21.

A dynamic provider is pickled by reference: its module path and class name are
stored in every stack that holds one of its resources. ``providers-1cdf9f3.json``
holds ``serialize_provider(P())`` of each provider as the program at 1cdf9f3
(before the move) wrote it; each must still load, to the provider of today.
The engine tier (``tests/engine/test_state_upgrade.py``) previews a whole stack
made by that commit.
"""

from __future__ import annotations

import base64
import importlib
import json

import dill
import pytest

from hive_infra.providers import api_health, backup, envfile, stack_layout
from tests.support.program import PROJECT_DIR
from tests.support.state_fixture import load_in_fresh_interpreter

STORED = json.loads((PROJECT_DIR / "tests" / "fixtures" / "providers-1cdf9f3.json").read_text())
#: The module path each provider had before the move, and the module it lives in now.
MOVED = {
    "hive_infra.envfile": envfile,
    "hive_infra.stack_layout": stack_layout,
    "hive_infra.backup": backup,
    "hive_infra.api_health": api_health,
}


def test_the_fixture_holds_every_provider_under_its_old_path() -> None:
    modules = {name.rsplit(".", 1)[0] for name in STORED}
    assert modules == set(MOVED), f"one stored pickle per dynamic provider, by its old module path: {sorted(STORED)}"
    for name, text in STORED.items():
        raw = base64.b64decode(text)
        assert name.rsplit(".", 1)[0].encode() in raw and b"hive_infra.providers" not in raw, (
            f"{name}: the pickle names the path of before the move"
        )


@pytest.mark.parametrize("old_path", sorted(MOVED))
def test_an_old_module_path_is_the_moved_module_itself(old_path: str) -> None:
    assert importlib.import_module(old_path) is MOVED[old_path], (
        f"{old_path} must be the module {MOVED[old_path].__name__}, not a copy: a pickle may name any of its names"
    )


@pytest.mark.parametrize("stored_name", sorted(STORED))
def test_a_provider_pickled_before_the_move_loads_as_todays_provider(stored_name: str) -> None:
    provider = dill.loads(base64.b64decode(STORED[stored_name]))
    module, _, cls = stored_name.rpartition(".")
    assert type(provider) is getattr(MOVED[module], cls), f"{stored_name} loads as today's {cls}"


def test_the_old_pickles_load_in_a_fresh_interpreter() -> None:
    """As the language host loads them: nothing imported beforehand."""
    loaded = load_in_fresh_interpreter(STORED, PROJECT_DIR)
    expected = {name: MOVED[name.rsplit(".", 1)[0]].__name__ for name in STORED}
    assert loaded == expected, "each old path resolves to the provider's module of today"


def test_the_stack_fixture_holds_its_state_config_and_env_files() -> None:
    """What the engine tier imports, as git holds it (``.env*`` is ignored: kept as ``dot-env*``)."""
    folder = PROJECT_DIR / "tests" / "fixtures" / "state-1cdf9f3"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == ["Pulumi.proof.yaml", "env/dot-env", "env/dot-env.agent", "env/dot-env.genie", "stack.json"], (
        f"the fixture is whole: {files}"
    )
