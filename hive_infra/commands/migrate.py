"""``python -m hive_infra migrate``: its command line (the work is ``hive_infra.pg.migrate``)."""

from __future__ import annotations

import argparse

from hive_infra.commands.contract import Command, Context
from hive_infra.commands.db import EXIT_CODES, stack_arguments
from hive_infra.pg.dump import DEFAULT_OUT
from hive_infra.pg.migrate import MigrateOptions, run_migrate


def _arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--from-legacy", action="store_true", help="the source is a legacy install (required)")
    sub.add_argument(
        "--env-file",
        action="append",
        dest="env_files",
        metavar="PATH",
        help="legacy .env file; repeat for .env.agent and .env.genie (default: .env)",
    )
    stack_arguments(sub)
    sub.add_argument(
        "--out", metavar="DIR", default=DEFAULT_OUT, help=f"parent folder of the dump (default: ./{DEFAULT_OUT})"
    )
    sub.add_argument(
        "--dump-only", action="store_true", help="only dump the legacy databases (no stack needed); db restore later"
    )
    sub.add_argument("--replace", action="store_true", help="replace tables that exist in the stack's databases")
    sub.add_argument("--yes", action="store_true", help="act; without it only the plan is printed")


def to_options(args: argparse.Namespace) -> MigrateOptions:
    return MigrateOptions(
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


def run(options: MigrateOptions, context: Context) -> int:
    """Carry out ``migrate``."""
    return run_migrate(options, context.stdout, context.say, context.docker_factory)


COMMAND = Command(
    name="migrate",
    summary="move a legacy install's databases into the stack's",
    description=(
        "Find the legacy PostgreSQL servers (from the legacy .env files and, when it answers, Docker), "
        "print the plan, and with --yes dump each mode's legacy database (read-only) and restore it into "
        "that mode's database of the stack, checking every table's row count."
    ),
    exit_codes=EXIT_CODES,
    options=to_options,
    run=run,
    arguments=_arguments,
    changes=True,
)
