"""``python -m hive_infra adopt``: its command line."""

from __future__ import annotations

import argparse

from hive_infra.commands import adopt
from hive_infra.commands.contract import Command
from hive_infra.core.errors import ExitCode


def _arguments(sub: argparse.ArgumentParser) -> None:
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


def to_options(args: argparse.Namespace) -> adopt.AdoptOptions:
    return adopt.AdoptOptions(
        env_files=tuple(args.env_files or ()),
        data_dir=args.data_dir,
        show_secrets=args.show_secrets,
        detect=args.detect,
        stack=args.stack,
        print_secret=args.print_secret,
    )


COMMAND = Command(
    name="adopt",
    summary="print the `pulumi config set` lines that carry a legacy install's credentials over",
    description=(
        "Read a legacy automagik-hive .env file and print the `pulumi config set` commands that "
        "make this stack reuse its database user, password and API key. The summary and warnings "
        "go to stderr, the commands to stdout. Secrets are piped (see --print-secret), never "
        "shown, unless --show-secrets."
    ),
    exit_codes={ExitCode.OK: "success", ExitCode.REFUSED: "bad input", ExitCode.NOTHING: "nothing to adopt"},
    options=to_options,
    run=adopt.run,
    arguments=_arguments,
)
