"""``python -m hive_infra``: the project's command line (argument parsing only).

The Pulumi program itself is the project's top-level ``__main__.py``; this
module holds commands a user runs by hand. Logic lives in the command modules.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from hive_infra import adopt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hive_infra", description="hive-infra commands.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub = commands.add_parser(
        "adopt",
        help="print the `pulumi config set` lines that carry a legacy install's credentials over",
        description=(
            "Read a legacy automagik-hive .env file and print the `pulumi config set` commands that "
            "make this stack reuse its database user, password and API key. The summary and warnings "
            "go to stderr, the commands to stdout. Secrets are piped (see --print-secret), never "
            "shown, unless --show-secrets."
        ),
        epilog="Exit status: 0 success, 2 bad input, 3 nothing to adopt.",
    )
    sub.add_argument(
        "--env-file",
        action="append",
        metavar="PATH",
        dest="env_files",
        help=f"legacy .env file to read; repeat for .env.agent and .env.genie (default: {adopt.DEFAULT_ENV_FILE})",
    )
    sub.add_argument(
        "--data-dir",
        metavar="DIR",
        help="legacy PostgreSQL data folder to keep (the bind mount ./data/postgres); sets hive:dataPath",
    )
    sub.add_argument("--show-secrets", action="store_true", help="print secret values inline in the commands")
    sub.add_argument("--detect", action="store_true", help="also list legacy Docker containers and clashes")
    sub.add_argument("--stack", metavar="NAME", help="add --stack NAME to every printed command")
    sub.add_argument(
        "--print-secret",
        choices=adopt.SECRET_KEYS,
        metavar="KEY",
        help=(
            f"write only that secret ({', '.join(adopt.SECRET_KEYS)}) to stdout, for piping into "
            "`pulumi config set --secret hive:KEY`; refuses a terminal"
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None, **run_kwargs: Any) -> int:
    """Parse ``argv`` and run the command; ``run_kwargs`` reach ``adopt.run`` (tests)."""
    args = build_parser().parse_args(argv)
    options = adopt.Options(
        env_files=list(args.env_files or []),
        data_dir=args.data_dir,
        show_secrets=args.show_secrets,
        detect=args.detect,
        stack=args.stack,
        print_secret=args.print_secret,
    )
    return adopt.run(options, **run_kwargs)


if __name__ == "__main__":
    sys.exit(main())
