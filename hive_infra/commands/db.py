"""``python -m hive_infra db dump|restore`` and ``python -m hive_infra migrate``: command lines."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO

from hive_infra.commands.contract import Command, Context
from hive_infra.core.errors import CommandError, ExitCode
from hive_infra.core.modes import MODE_NAMES
from hive_infra.pg.dump import DEFAULT_OUT, DumpOptions, run_dump
from hive_infra.pg.migrate import MigrateOptions, run_migrate
from hive_infra.pg.restore import RestoreOptions, run_restore
from hive_infra.pg.tools import BINDIR_ENV, DOCKER_ENV, TOOL_CHOICES

EXIT_CODES = (
    "0 done, 1 failed while acting (the message says what was and was not written), "
    "2 refused before changing anything, 3 nothing found"
)
EXIT_TEXT = f"Exit status: {EXIT_CODES}."
TOOLS_HELP = (
    "where pg_dump/pg_restore run: auto (default) runs them inside the PostgreSQL container with docker exec "
    f"when there is one, else the local ones; docker or local force one (local: ${BINDIR_ENV}, else PATH; "
    f"docker: ${DOCKER_ENV}, else docker on PATH)"
)


def _common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--stack", metavar="NAME", help="the Pulumi stack (default: the selected one)")
    sub.add_argument(
        "--mode", action="append", choices=MODE_NAMES, dest="modes", metavar="MODE", help="only this mode; repeat"
    )
    sub.add_argument("--tools", choices=TOOL_CHOICES, default="auto", help=TOOLS_HELP)


def _db_arguments(db: argparse.ArgumentParser) -> None:
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dump = actions.add_parser(
        "dump",
        help="pg_dump each mode's database into a new folder, with a manifest",
        description=(
            "pg_dump -Fc of each mode's database of the stack into a new timestamped folder (0700, files 0600) "
            "under --out, with manifest.json (modes, databases, server version, exact per-table row counts, "
            "sha256 of each archive) written last. Prints the folder's path on stdout."
        ),
        epilog=EXIT_TEXT,
    )
    _common(dump)
    dump.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help=f"parent folder (default: ./{DEFAULT_OUT})")
    restore = actions.add_parser(
        "restore",
        help="restore a dump folder into the stack's databases",
        description=(
            "Check the archives' checksums, refuse targets that hold tables of the same names (unless "
            "--replace), restore as the application role without owners or grants, then compare every "
            "table's row count with the manifest."
        ),
        epilog=EXIT_TEXT,
    )
    restore.add_argument("folder", metavar="DIR", help="a folder written by db dump or migrate")
    _common(restore)
    restore.add_argument(
        "--replace", action="store_true", help="drop and restore tables that exist already (their rows are lost)"
    )


def _migrate_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--from-legacy", action="store_true", help="the source is a legacy install (required)")
    sub.add_argument(
        "--env-file",
        action="append",
        dest="env_files",
        metavar="PATH",
        help="legacy .env file; repeat for .env.agent and .env.genie (default: .env)",
    )
    _common(sub)
    sub.add_argument(
        "--out", metavar="DIR", default=DEFAULT_OUT, help=f"parent folder of the dump (default: ./{DEFAULT_OUT})"
    )
    sub.add_argument(
        "--dump-only", action="store_true", help="only dump the legacy databases (no stack needed); db restore later"
    )
    sub.add_argument("--replace", action="store_true", help="replace tables that exist in the stack's databases")
    sub.add_argument("--yes", action="store_true", help="act; without it only the plan is printed")


def _guard(name: str, stderr: TextIO, work: Callable[[Callable[[str], None]], int]) -> int:
    def say(line: str) -> None:
        print(line, file=stderr, flush=True)

    try:
        return work(say)
    except CommandError as exc:
        prefix = f"{name}: error: " if exc.code == ExitCode.FAILED else f"{name}: "
        for problem in exc.problems:
            say(prefix + problem)
        if exc.code != ExitCode.FAILED:
            say(f"{name}: nothing was changed")
        return exc.code


def run_db(args: argparse.Namespace, context: Context) -> int:
    out, err = context.stdout, context.stderr
    modes = tuple(args.modes or ())
    if args.db_command == "dump":
        options = DumpOptions(stack=args.stack, modes=modes, out=args.out, tools=args.tools)
        return _guard("db dump", err, lambda say: run_dump(options, out, say))
    restore = RestoreOptions(args.folder, args.stack, modes, args.replace, args.tools)
    return _guard("db restore", err, lambda say: run_restore(restore, say))


def run_migrate_command(args: argparse.Namespace, context: Context) -> int:
    options = MigrateOptions(
        from_legacy=args.from_legacy,
        env_files=tuple(args.env_files or ()),
        stack=args.stack,
        modes=tuple(args.modes or ()),
        out=args.out,
        dump_only=args.dump_only,
        replace=args.replace,
        tools=args.tools,
        yes=args.yes,
    )
    out, err = context.stdout, context.stderr
    return _guard("migrate", err, lambda say: run_migrate(options, out, say, context.docker_factory))


DB_COMMAND = Command(
    name="db",
    summary="dump the stack's databases, or restore a dump into them",
    description=(
        "Back up and restore each mode's database of a deployed stack (docs/backups-and-migration.md: Backups)."
    ),
    exit_codes=EXIT_CODES,
    arguments=_db_arguments,
    handler=run_db,
)
MIGRATE_COMMAND = Command(
    name="migrate",
    summary="move a legacy install's databases into the stack's",
    description=(
        "Find the legacy PostgreSQL servers (from the legacy .env files and, when it answers, Docker), "
        "print the plan, and with --yes dump each mode's legacy database (read-only) and restore it into "
        "that mode's database of the stack, checking every table's row count."
    ),
    exit_codes=EXIT_CODES,
    arguments=_migrate_arguments,
    handler=run_migrate_command,
)
