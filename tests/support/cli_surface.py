"""The command line's surface as plain data: every command and sub-command, each
option's flags, destination, default, choices, nargs and help, and each parser's
description and exit-status epilog.

``tests/fixtures/cli-surface.json`` holds this surface as the code before the
reorganisation of issue #21 printed it (commit 1cdf9f3); ``test_cli_surface``
compares the code's surface with it, so a move cannot change a flag, a default,
an exit code or a help text by accident. A deliberate change regenerates it:
``python -m tests.support.cli_surface > tests/fixtures/cli-surface.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _action(action: argparse.Action) -> dict[str, Any]:
    return {
        "flags": list(action.option_strings),
        "dest": action.dest,
        "nargs": action.nargs,
        "default": repr(action.default),
        "choices": None if action.choices is None else sorted(map(str, action.choices)),
        "required": action.required,
        "metavar": repr(action.metavar),
        "help": action.help,
    }


def surface(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """``parser``'s surface, its sub-parsers' nested under ``commands``."""
    commands: dict[str, Any] = {}
    actions = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands = {name: surface(sub) for name, sub in action.choices.items()}
        elif not isinstance(action, argparse._HelpAction):
            actions.append(_action(action))
    return {
        "prog": parser.prog,
        "description": parser.description,
        "epilog": parser.epilog,
        "actions": actions,
        "commands": commands,
    }


def current() -> dict[str, Any]:
    from hive_infra.__main__ import build_parser

    return surface(build_parser())


if __name__ == "__main__":
    json.dump(current(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
