"""``python -m hive_infra``: the project's command line.

The Pulumi program itself is the project's top-level ``__main__.py``; this
module holds the commands a user runs by hand. Each command module declares
its ``COMMAND`` (``hive_infra.commands.contract.Command``), listed in
``hive_infra.commands.catalog``; the logic lives there. What stops a command is
a ``CommandError``, printed here and nowhere else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from hive_infra.commands.catalog import COMMANDS
from hive_infra.commands.contract import Command, Context
from hive_infra.core.errors import CommandError

__all__ = ["COMMANDS", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hive_infra", description="hive-infra commands.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_to(commands)
    return parser


def main(argv: Sequence[str] | None = None, context: Context | None = None) -> int:
    """Parse ``argv`` and run the command with ``context`` (default: this process's streams
    and the real machine); its exit code."""
    args = build_parser().parse_args(argv)
    command: Command[Any] = args.command_
    context = context or Context.of_this_process()
    try:
        return int(command.run(command.options(args), context))
    except CommandError as error:
        command.report(error, args.label_, context.stderr)
        return int(error.code)


if __name__ == "__main__":
    sys.exit(main())
