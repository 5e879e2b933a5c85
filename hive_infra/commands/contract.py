"""What every ``python -m hive_infra`` command declares and gets.

A command module declares one ``COMMAND``: its name, its help, its exit codes
with what each means for it, its arguments, how its typed options (a frozen
dataclass) are made from the parsed arguments, and its handler, ``run(options,
context)``. ``hive_infra/__main__.py`` builds one subparser per declaration, so
every command's help reads alike, with the exit codes rendered once
(``exit_status``) into its epilog and the README's command table
(``commands.catalog``); it calls the handler with the options and one
``Context``: where to write, and how to reach the machine (Docker, the
environment, the project folder, the disk). Tests pass their own ``Context``;
nothing else is injected. A handler returns an ``ExitCode``; what stops it is a
``CommandError`` (``hive_infra.core.errors``), which ``__main__`` alone prints.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from hive_infra.core.errors import CommandError, ExitCode
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

    def say(self, line: str) -> None:
        """One line on stderr, at once (it may be followed by a tool's own output)."""
        print(line, file=self.stderr, flush=True)


#: A command's typed options.
OptionsT = TypeVar("OptionsT")
#: What each exit code means for one command, e.g. ``{ExitCode.OK: "printed", ExitCode.REFUSED: "bad usage"}``.
ExitCodes = Mapping[ExitCode, str]


def exit_status(codes: ExitCodes) -> str:
    """``0 printed, 2 bad usage``: the one rendering of a command's exit codes (its epilog, the README)."""
    return ", ".join(f"{int(code)} {meaning}" for code, meaning in sorted(codes.items()))


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A parser without arguments of its own (``db``: only its actions)."""


@dataclass(frozen=True)
class Action:
    """A sub-command (``db dump``): its own help and arguments; its command's exit codes and handler."""

    name: str
    summary: str
    description: str
    arguments: Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command(Generic[OptionsT]):
    name: str
    #: One line for ``python -m hive_infra --help``.
    summary: str
    description: str
    exit_codes: ExitCodes
    #: Makes the typed options from the parsed arguments: the one place that reads them.
    options: Callable[[argparse.Namespace], OptionsT]
    #: The handler, ``run(options, context) -> ExitCode``.
    run: Callable[[OptionsT, Context], int]
    #: Adds the command's own arguments to its parser.
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    #: Sub-commands (chosen as ``args.action``), each with the command's exit codes.
    actions: tuple[Action, ...] = ()
    #: The command changes something (files, databases, the stack), so a refusal says that nothing was.
    changes: bool = False

    @property
    def epilog(self) -> str:
        return f"Exit status: {exit_status(self.exit_codes)}."

    def add_to(self, commands: Any) -> argparse.ArgumentParser:
        """Add this command (and its actions) to the subparsers ``commands``."""
        parser: argparse.ArgumentParser = commands.add_parser(
            self.name, help=self.summary, description=self.description, epilog=self.epilog
        )
        self.arguments(parser)
        # What ``__main__`` reads back: the declaration to run, and the name its errors are printed with.
        parser.set_defaults(command_=self, label_=self.name)
        if self.actions:
            actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
            for action in self.actions:
                sub = actions.add_parser(
                    action.name, help=action.summary, description=action.description, epilog=self.epilog
                )
                action.arguments(sub)
                sub.set_defaults(label_=f"{self.name} {action.name}")
        return parser

    def report(self, error: CommandError, label: str, stderr: TextIO) -> None:
        """``error`` on ``stderr``: each problem on its line (``label: error: ...``, or ``label: ...``
        when there was nothing to do), then whether nothing was changed, when this command changes things."""
        prefix = f"{label}: " if error.code == ExitCode.NOTHING else f"{label}: error: "
        for problem in error.problems:
            print(prefix + problem, file=stderr, flush=True)
        if self.changes and error.unchanged:
            print(f"{label}: nothing was changed", file=stderr, flush=True)
