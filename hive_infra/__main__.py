"""``python -m hive_infra``: the project's command line.

The Pulumi program itself is the project's top-level ``__main__.py``; this
module holds the commands a user runs by hand. Each command module adds its
own subparser (``add_parser``) with a ``handler``; the logic lives there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from hive_infra.adopt import cli as adopt_cli
from hive_infra.db import cli as db_cli

#: Every command's ``add_parser``, in the order ``--help`` lists them.
COMMANDS = (adopt_cli.add_parser, db_cli.add_db_parser, db_cli.add_migrate_parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hive_infra", description="hive-infra commands.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_parser in COMMANDS:
        add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None, **run_kwargs: Any) -> int:
    """Parse ``argv`` and run the command; ``run_kwargs`` reach its handler (tests)."""
    args = build_parser().parse_args(argv)
    code: int = args.handler(args, **run_kwargs)
    return code


if __name__ == "__main__":
    sys.exit(main())
