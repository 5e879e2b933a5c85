"""``python -m hive_infra``: the project's command line.

The Pulumi program itself is the project's top-level ``__main__.py``; this
module holds the commands a user runs by hand. Each command module declares
its ``COMMAND`` (``hive_infra.commands.contract.Command``); the logic lives there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hive_infra.commands import db as db_cli
from hive_infra.commands import repair, status
from hive_infra.commands.adopt import cli as adopt_cli
from hive_infra.commands.contract import Context, Handler
from hive_infra.commands.doctor import cli as doctor_cli

#: Every command, in the order ``--help`` lists them.
COMMANDS = (
    doctor_cli.COMMAND,
    status.COMMAND,
    repair.COMMAND,
    adopt_cli.COMMAND,
    db_cli.DB_COMMAND,
    db_cli.MIGRATE_COMMAND,
)


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
    handler: Handler = args.handler
    return int(handler(args, context or Context.of_this_process()))


if __name__ == "__main__":
    sys.exit(main())
