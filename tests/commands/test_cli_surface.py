"""The command line keeps its flags, defaults, help and exit-status texts: the
surface recorded before the reorganisation (``tests/fixtures/cli-surface.json``)
is the surface now."""

from __future__ import annotations

import json
from typing import Any

from tests.support import cli_surface
from tests.support.program import PROJECT_DIR

FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "cli-surface.json"
REGENERATE = "python -m tests.support.cli_surface > tests/fixtures/cli-surface.json"


def _flatten(node: dict[str, Any], path: str = "python -m hive_infra") -> dict[str, Any]:
    """``{"<command path> <what>": value}``: one entry per parser field and per option."""
    flat: dict[str, Any] = {f"{path} {key}": node[key] for key in ("prog", "description", "epilog")}
    for action in node["actions"]:
        name = "/".join(action["flags"]) or action["dest"]
        flat[f"{path} {name}"] = action
    for name, sub in node["commands"].items():
        flat.update(_flatten(sub, f"{path} {name}"))
    return flat


def test_every_command_flag_default_and_exit_text_is_as_recorded() -> None:
    recorded = _flatten(json.loads(FIXTURE.read_text()))
    now = _flatten(cli_surface.current())
    assert sorted(now) == sorted(recorded), (
        f"commands or flags were added or removed: missing {sorted(set(recorded) - set(now))}, "
        f"new {sorted(set(now) - set(recorded))}; if deliberate: {REGENERATE}"
    )
    changed = {key: (recorded[key], now[key]) for key in recorded if recorded[key] != now[key]}
    assert not changed, f"the command line changed (recorded, now): {changed}; if deliberate: {REGENERATE}"


def test_the_recording_holds_every_command_and_their_exit_texts() -> None:
    recorded = json.loads(FIXTURE.read_text())["commands"]
    assert set(recorded) == {"doctor", "status", "repair", "adopt", "db", "migrate"}, "the six commands were recorded"
    assert set(recorded["db"]["commands"]) == {"dump", "restore"}, "with db's two sub-commands"
    for name in ("doctor", "status", "adopt", "migrate"):
        assert "Exit status:" in (recorded[name]["epilog"] or ""), f"{name}'s exit codes are part of what is pinned"
