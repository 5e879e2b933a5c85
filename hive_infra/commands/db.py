"""``python -m hive_infra db dump|restore``: its command line (the work is ``hive_infra.pg``).

``stack_arguments`` are the options ``db`` shares with ``migrate``; ``EXIT_CODES``
are the exit codes both declare.
"""

from __future__ import annotations

import argparse

from hive_infra.commands.contract import Action, Command, Context, ExitCodes
from hive_infra.core.errors import ExitCode
from hive_infra.core.modes import MODE_NAMES
from hive_infra.pg.dump import DEFAULT_OUT, DumpOptions, run_dump
from hive_infra.pg.restore import RestoreOptions, run_restore
from hive_infra.pg.tools import BINDIR_ENV, DOCKER_ENV, TOOL_CHOICES

EXIT_CODES: ExitCodes = {
    ExitCode.OK: "done",
    ExitCode.FAILED: "failed while acting (the message says what was and was not written)",
    ExitCode.REFUSED: "refused before changing anything",
    ExitCode.NOTHING: "nothing found",
}
TOOLS_HELP = (
    "where pg_dump/pg_restore run: auto (default) runs them inside the PostgreSQL container with docker exec "
    f"when there is one, else the local ones; docker or local force one (local: ${BINDIR_ENV}, else PATH; "
    f"docker: ${DOCKER_ENV}, else docker on PATH)"
)


def stack_arguments(sub: argparse.ArgumentParser) -> None:
    """``--stack``, ``--mode`` and ``--tools``: which stack, which modes, where the tools run."""
    sub.add_argument("--stack", metavar="NAME", help="the Pulumi stack (default: the selected one)")
    sub.add_argument(
        "--mode", action="append", choices=MODE_NAMES, dest="modes", metavar="MODE", help="only this mode; repeat"
    )
    sub.add_argument("--tools", choices=TOOL_CHOICES, default="auto", help=TOOLS_HELP)


def _dump_arguments(dump: argparse.ArgumentParser) -> None:
    stack_arguments(dump)
    dump.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help=f"parent folder (default: ./{DEFAULT_OUT})")


def _restore_arguments(restore: argparse.ArgumentParser) -> None:
    restore.add_argument("folder", metavar="DIR", help="a folder written by db dump or migrate")
    stack_arguments(restore)
    restore.add_argument(
        "--replace", action="store_true", help="drop and restore tables that exist already (their rows are lost)"
    )


DbOptions = DumpOptions | RestoreOptions


def to_options(args: argparse.Namespace) -> DbOptions:
    modes = tuple(args.modes or ())
    if args.action == "dump":
        return DumpOptions(stack=args.stack, modes=modes, out=args.out, tools=args.tools)
    return RestoreOptions(args.folder, args.stack, modes, args.replace, args.tools)


def run(options: DbOptions, context: Context) -> int:
    """Carry out ``db dump`` or ``db restore``."""
    if isinstance(options, DumpOptions):
        return run_dump(options, context.stdout, context.say)
    return run_restore(options, context.say)


COMMAND = Command(
    name="db",
    summary="dump the stack's databases, or restore a dump into them",
    description=(
        "Back up and restore each mode's database of a deployed stack (docs/backups-and-migration.md: Backups)."
    ),
    exit_codes=EXIT_CODES,
    options=to_options,
    run=run,
    actions=(
        Action(
            "dump",
            "pg_dump each mode's database into a new folder, with a manifest",
            "pg_dump -Fc of each mode's database of the stack into a new timestamped folder (0700, files 0600) "
            "under --out, with manifest.json (modes, databases, server version, exact per-table row counts, "
            "sha256 of each archive) written last. Prints the folder's path on stdout.",
            _dump_arguments,
        ),
        Action(
            "restore",
            "restore a dump folder into the stack's databases",
            "Check the archives' checksums, refuse targets that hold tables of the same names (unless "
            "--replace), restore as the application role without owners or grants, then compare every "
            "table's row count with the manifest.",
            _restore_arguments,
        ),
    ),
    changes=True,
)
