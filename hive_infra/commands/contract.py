"""What a ``python -m hive_infra`` command declares: its name, its help and its handler.

``hive_infra/__main__.py`` builds one subparser per declaration, so every
command's help reads alike (a summary, a description, its exit codes).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    name: str
    #: One line for ``python -m hive_infra --help``.
    summary: str
    description: str
    #: E.g. ``0 success, 2 bad input``.
    exit_codes: str
    #: Adds the command's own arguments to its parser.
    arguments: Callable[[argparse.ArgumentParser], None]
    #: ``handler(args, **injected) -> exit code``; tests inject I/O through keywords.
    handler: Callable[..., int]

    def add_to(self, commands: Any) -> argparse.ArgumentParser:
        """Add this command to the subparsers ``commands``."""
        parser: argparse.ArgumentParser = commands.add_parser(
            self.name, help=self.summary, description=self.description, epilog=f"Exit status: {self.exit_codes}."
        )
        self.arguments(parser)
        parser.set_defaults(handler=self.handler)
        return parser
