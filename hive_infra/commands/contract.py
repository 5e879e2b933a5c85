"""What every ``python -m hive_infra`` command declares and gets.

A command declares its ``Command``: its name, its help, its exit codes and its
handler. ``hive_infra/__main__.py`` builds one subparser per declaration, so
every command's help reads alike, and calls the handler with the parsed
arguments and one ``Context``: where to write, and how to reach the machine
(Docker, the environment, the project folder, the disk). Tests pass their own
``Context``; nothing else is injected. A handler returns an ``ExitCode`` and
reports what stops it as a ``CommandError`` (``hive_infra.core.errors``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hive_infra.legacy.containers import DockerFactory, default_docker_factory
from hive_infra.machine.stack_reader import PROJECT_DIR


def free_bytes(path: str) -> int:
    """The free space of the file system holding ``path``."""
    return shutil.disk_usage(path).free


def this_program() -> tuple[str, ...]:
    """How printed lines call the commands back: this very interpreter."""
    return (sys.executable or "python", "-m", "hive_infra")


@dataclass(frozen=True)
class Context:
    """What a handler gets besides its arguments. The defaults are the real machine."""

    stdout: TextIO
    stderr: TextIO
    docker_factory: DockerFactory = default_docker_factory
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    project_dir: Path = PROJECT_DIR
    disk_free: Callable[[str], int] = free_bytes
    #: The command line that runs these commands, for the lines a command prints.
    program: tuple[str, ...] = field(default_factory=this_program)

    @classmethod
    def of_this_process(cls) -> Context:
        return cls(sys.stdout, sys.stderr)


#: ``handler(args, context) -> exit code`` (an ``ExitCode``).
Handler = Callable[[argparse.Namespace, Context], int]


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
    handler: Handler

    def add_to(self, commands: Any) -> argparse.ArgumentParser:
        """Add this command to the subparsers ``commands``."""
        parser: argparse.ArgumentParser = commands.add_parser(
            self.name, help=self.summary, description=self.description, epilog=f"Exit status: {self.exit_codes}."
        )
        self.arguments(parser)
        parser.set_defaults(handler=self.handler)
        return parser
