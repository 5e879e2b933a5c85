"""Every command, listed once: the order ``python -m hive_infra --help`` shows
them in, and the README's command table (what each does, its exit codes), which
``python -m hive_infra.commands.catalog write`` renders from the declarations
(``make docs``; ``check`` exits 1 when the README differs, as the tests do).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from hive_infra.commands import db, migrate, repair, status
from hive_infra.commands.adopt import cli as adopt_cli
from hive_infra.commands.contract import Command, exit_status
from hive_infra.commands.doctor import cli as doctor_cli
from hive_infra.config.docs import README, sync, with_block

#: Every command, in the order ``--help`` lists them.
COMMANDS: tuple[Command[Any], ...] = (
    doctor_cli.COMMAND,
    status.COMMAND,
    repair.COMMAND,
    adopt_cli.COMMAND,
    db.COMMAND,
    migrate.COMMAND,
)

TABLE_BEGIN = "<!-- commands-table:begin (generated from each command's COMMAND by `make docs`) -->"
TABLE_END = "<!-- commands-table:end -->"


def readme_table() -> str:
    rows = ["| command | what it does | exit status |", "|---|---|---|"]
    for command in COMMANDS:
        names = [f"{command.name} {a.name}" for a in command.actions] or [command.name]
        rows.append(f"| {', '.join(f'`{n}`' for n in names)} | {command.summary} | {exit_status(command.exit_codes)} |")
    return "\n".join(rows) + "\n"


def with_readme_table(text: str) -> str:
    """README's text with the table between the markers rendered anew."""
    return with_block(text, TABLE_BEGIN, TABLE_END, readme_table(), README.name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hive_infra.commands.catalog", description=__doc__)
    parser.add_argument("action", choices=("check", "write"))
    return sync([(README, with_readme_table)], parser.parse_args(argv).action, "the commands' declarations")


if __name__ == "__main__":
    sys.exit(main())
