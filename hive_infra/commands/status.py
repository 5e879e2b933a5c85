"""``python -m hive_infra status``: what a deployed stack made, per mode.

Reads the stack's outputs through the Pulumi CLI (``stack_outputs``) and prints,
per mode, the API URL, the database URL, the API key and the .env file.

Secrets are read only when shown: without ``--show-secrets`` the CLI is asked
without it, so the password and the keys never reach this process, and the
masked values are rendered from the plain outputs (``postgres``,
``databases``) with the same functions that render the real ones, the password
and the key base replaced by ``****``. ``-o env`` prints one mode's owned .env
keys as ``export KEY='value'`` lines for a POSIX shell's ``eval``; masked values
would be wrong values, so it needs ``--show-secrets``.

Unreadable outputs exit 1 (``FAILED``), a request it refuses 2 (``REFUSED``):
``COMMAND`` declares both.
"""

from __future__ import annotations

import argparse
import io
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from dotenv import dotenv_values

from hive_infra.commands.contract import Command, Context
from hive_infra.core.errors import CommandError, ExitCode
from hive_infra.core.modes import MODE_NAMES, MODES
from hive_infra.core.outputs import API_KEYS, API_URLS, DATABASE_URLS, ENV_FILE_PATHS, ENV_FILES, NAMESPACE
from hive_infra.core.placement import place
from hive_infra.core.rendering import OWNED_KEYS, DbEndpoint, api_key, database_url, url_sslmode
from hive_infra.machine.stack_reader import StackOutputs, StackOutputsError, read_stack_outputs

MASK = "****"
FORMATS = ("table", "json", "env")
#: Stands for the password while a masked URL is rendered: letters only, so
#: percent-encoding leaves it as it is (``*`` would become ``%2A``).
_TOKEN = "MASKEDPASSWORD"


@dataclass(frozen=True)
class ModeStatus:
    """What a person needs of one mode (secrets masked unless shown)."""

    mode: str
    api_url: str
    database_url: str
    api_key: str
    env_file: str


# --- pure: from outputs to what is printed --------------------------------------------------


def masked_database_url(postgres: Mapping[str, Any], mode: str) -> str:
    """The mode's URL as the stack renders it, with ``****`` for the password,
    from the plain ``postgres`` output alone."""
    placement = place(MODES[mode], postgres["database"], postgres["isolation"])
    sslmode = url_sslmode(postgres.get("mode"), postgres.get("sslmode"))  # the stack's rule, on its outputs
    endpoint = DbEndpoint(postgres["host"], int(postgres["port"]), postgres["user"], _TOKEN, sslmode)
    return database_url(endpoint, placement).replace(f":{_TOKEN}@", f":{MASK}@", 1)


def masked_api_key(mode: str) -> str:
    """``hive_****`` or ``hive_<mode>_****``: the key's form without its base."""
    return api_key(MODES[mode], MASK)


def mode_status(outputs: StackOutputs, mode: str, show_secrets: bool) -> ModeStatus:
    if show_secrets:
        url, key = outputs.mode_value(DATABASE_URLS.name, mode), outputs.mode_value(API_KEYS.name, mode)
    else:
        url, key = masked_database_url(outputs.postgres, mode), masked_api_key(mode)
    return ModeStatus(
        mode=mode,
        api_url=outputs.mode_value(API_URLS.name, mode),
        database_url=url,
        api_key=key,
        env_file=outputs.mode_value(ENV_FILE_PATHS.name, mode),
    )


def env_values(outputs: StackOutputs, mode: str) -> list[tuple[str, str]]:
    """The mode's owned .env keys with the values its file holds (secrets shown)."""
    content = outputs.mode_value(ENV_FILES.name, mode)["content"]
    values = dotenv_values(stream=io.StringIO(content), interpolate=False)
    return [(key, str(values[key])) for key in OWNED_KEYS if values.get(key) is not None]


def render_env(pairs: Sequence[tuple[str, str]]) -> str:
    """``export KEY='value'`` lines a POSIX shell's ``eval`` reads back exactly."""
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in pairs)


def render_json(stack: str | None, statuses: Sequence[ModeStatus], show_secrets: bool) -> str:
    modes = {s.mode: {k: v for k, v in asdict(s).items() if k != "mode"} for s in statuses}
    return json.dumps({"stack": stack, "secretsShown": show_secrets, "modes": modes}, indent=2) + "\n"


def render_table(stack: str | None, statuses: Sequence[ModeStatus], show_secrets: bool) -> str:
    where = f"stack {stack}" if stack else "the selected stack"
    shown = "secrets shown" if show_secrets else "secrets masked; --show-secrets shows them"
    lines = [f"hive on {where} ({shown})"]
    for s in statuses:
        lines += [
            "",
            s.mode,
            f"  API URL       {s.api_url}",
            f"  database URL  {s.database_url}",
            f"  API key       {s.api_key}",
            f"  .env file     {s.env_file}",
        ]
    lines += [
        "",
        'A mode\'s values in your shell: eval "$(venv/bin/python -m hive_infra status MODE -o env --show-secrets)"',
    ]
    return "\n".join(lines) + "\n"


def port_forward_lines(namespace: str, statuses: Sequence[ModeStatus]) -> str:
    """platform=kubernetes: a ``kubectl port-forward`` line per mode, from its in-cluster URL
    (``http://<service>.<namespace>.svc.cluster.local:<port>``) to the same port here, and
    a ``kubectl logs`` line per mode's Deployment."""
    lines = ["", f"The API from this machine (platform=kubernetes, namespace {namespace}):"]
    logs = ["", "Its pods' logs (why a Deployment is not Available):"]
    for s in statuses:
        host, _, port = s.api_url.removeprefix("http://").partition(":")
        service = host.split(".")[0]
        lines.append(f"  {s.mode:<10} kubectl -n {namespace} port-forward svc/{service} {port}:{port}")
        logs.append(f"  {s.mode:<10} kubectl -n {namespace} logs deploy/{service}")
    return "\n".join(lines + logs) + "\n"


# --- the command --------------------------------------------------------------------------


def _arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("mode", nargs="?", choices=MODE_NAMES, metavar="MODE", help="one mode only (default: all)")
    sub.add_argument("--stack", metavar="NAME", help="the stack to read (default: the selected one)")
    sub.add_argument(
        "--show-secrets",
        action="store_true",
        help="read and print the real database URLs and API keys (otherwise they are never read)",
    )
    sub.add_argument(
        "-o",
        "--output",
        choices=FORMATS,
        default="table",
        help="table (default), json, or env: one mode's .env keys as `export KEY='value'` lines for eval",
    )


@dataclass(frozen=True)
class StatusOptions:
    mode: str | None = None
    stack: str | None = None
    show_secrets: bool = False
    output: str = "table"


def to_options(args: argparse.Namespace) -> StatusOptions:
    return StatusOptions(mode=args.mode, stack=args.stack, show_secrets=args.show_secrets, output=args.output)


def _check_usage(options: StatusOptions) -> None:
    if options.output == "env" and not options.show_secrets:
        raise CommandError(
            "-o env prints the real values for your shell and needs --show-secrets "
            "(masked values would be wrong ones): "
            f'eval "$(venv/bin/python -m hive_infra status {options.mode or "MODE"} -o env --show-secrets)"'
        )


def _modes(options: StatusOptions, outputs: StackOutputs) -> list[str]:
    deployed = outputs.modes
    if options.mode is not None:
        if options.mode not in deployed:
            raise CommandError(f"mode {options.mode!r} is not deployed in this stack (it has {', '.join(deployed)})")
        return [options.mode]
    if options.output == "env" and len(deployed) != 1:
        raise CommandError(f"-o env prints one mode's values: name one of {', '.join(deployed)}")
    return deployed


def run(options: StatusOptions, context: Context) -> ExitCode:
    """Carry out ``status``."""
    _check_usage(options)
    try:
        outputs = read_stack_outputs(options.stack, show_secrets=options.show_secrets)
        modes = _modes(options, outputs)
        if options.output == "env":
            context.stdout.write(render_env(env_values(outputs, modes[0])))
            return ExitCode.OK
        statuses = [mode_status(outputs, mode, options.show_secrets) for mode in modes]
    except StackOutputsError as exc:  # unreadable outputs are a failure (1), not bad usage (2)
        raise CommandError(str(exc), ExitCode.FAILED) from None
    render = render_json if options.output == "json" else render_table
    context.stdout.write(render(options.stack, statuses, options.show_secrets))
    namespace = outputs.values.get(NAMESPACE.name)
    if namespace and options.output == "table":
        context.stdout.write(port_forward_lines(namespace, statuses))
    return ExitCode.OK


COMMAND = Command(
    name="status",
    summary="print each mode's API URL, database URL, API key and .env file of a deployed stack",
    description=(
        "Read the stack's outputs through `pulumi stack output --json` and print, per mode, the API URL, "
        "the database URL, the API key (both masked unless --show-secrets) and the .env file."
    ),
    exit_codes={
        ExitCode.OK: "printed",
        ExitCode.FAILED: "the outputs could not be read",
        ExitCode.REFUSED: "bad usage",
    },
    options=to_options,
    run=run,
    arguments=_arguments,
)
