"""``python -m hive_infra adopt``: carry a legacy installation's credentials over.

A legacy automagik-hive install keeps its PostgreSQL user, password and API
key in ``.env`` files (``.env``, ``.env.agent``, ``.env.genie``). Without
adoption, ``pulumi up`` would start a second, empty database with new
passwords. This module reads those files, checks them with the same rules the
program applies (``config.parse_config``), and prints the ``pulumi config set``
commands that make the stack reuse them.

Output contract:

* stderr: a short summary of what was found, warnings, errors, and (with
  ``--detect``) the Docker findings. Never a secret unless ``--show-secrets``.
* stdout: only the ``pulumi config set`` commands, one a line, every value
  quoted for a POSIX shell, so ``adopt > adopt.sh`` is a runnable script.
  Secrets are not written inline (unless ``--show-secrets``): each secret line
  pipes ``adopt --print-secret KEY`` into ``pulumi config set --secret``, which
  reads the value from standard input, so the secret never reaches the screen,
  the shell history or a process's argument list.

``cli`` declares its ``COMMAND``, exit codes included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hive_infra.commands.adopt.printing import config_set_line, summary_lines
from hive_infra.commands.adopt.settings import Setting, settings_for, validate
from hive_infra.commands.contract import Context
from hive_infra.config import GENERATED_SECRET_KEY_NAMES, NAMESPACE, HiveConfig
from hive_infra.core.errors import CommandError, ExitCode
from hive_infra.core.rendering import parse_database_url
from hive_infra.legacy.containers import detect_lines
from hive_infra.legacy.data_dir import DataDir, check_data_dir
from hive_infra.legacy.env_files import (
    API_KEY_KEY,
    PASSWORD_KEY,
    URL_KEY,
    USER_KEY,
    Adoption,
    inspect_files,
    merge,
)

__all__ = ["DEFAULT_ENV_FILE", "SECRET_KEYS", "AdoptOptions", "parse_database_url", "run"]

DEFAULT_ENV_FILE = ".env"
#: Secrets ``--print-secret`` can emit, by their config key.
SECRET_KEYS: tuple[str, ...] = GENERATED_SECRET_KEY_NAMES


@dataclass(frozen=True)
class AdoptOptions:
    env_files: tuple[str, ...] = ()
    data_dir: str | None = None
    show_secrets: bool = False
    detect: bool = False
    stack: str | None = None
    print_secret: str | None = None


def _load(
    options: AdoptOptions, say: Callable[[str], None]
) -> tuple[Adoption, list[Setting], DataDir | None, HiveConfig]:
    labels = list(options.env_files or [DEFAULT_ENV_FILE])
    files = inspect_files(labels)
    adoption = merge(files)
    if not any(f.has_anything for f in files):
        for warning in adoption.warnings:
            say(f"warning: {warning}")
        raise CommandError(
            f"nothing to adopt: {', '.join(labels)} hold neither {URL_KEY} (nor "
            f"{USER_KEY}/{PASSWORD_KEY}) nor a usable {API_KEY_KEY}; plain `pulumi up` will do",
            code=ExitCode.NOTHING,
        )
    data_dir = None
    if options.data_dir is not None:
        data_dir = check_data_dir(options.data_dir)
        if adoption.user is None or adoption.password is None:
            raise CommandError(
                "--data-dir needs the legacy database user and password (the data directory's "
                f"superuser), but {', '.join(labels)} hold neither {URL_KEY} nor {USER_KEY}/{PASSWORD_KEY}"
            )
    settings = settings_for(adoption, data_dir)
    cfg = validate(settings)
    return adoption, settings, data_dir, cfg


def _secret_source(options: AdoptOptions, program: Sequence[str]) -> list[str]:
    cmd = [*program, "adopt"]
    for label in options.env_files or [DEFAULT_ENV_FILE]:
        cmd += ["--env-file", str(Path(label).resolve())]
    return cmd


def run(options: AdoptOptions, context: Context) -> ExitCode:
    """Carry out ``adopt``."""
    out, say = context.stdout, context.say
    adoption, settings, data_dir, cfg = _load(options, say)
    if options.print_secret is not None:
        return _print_secret(options.print_secret, settings, adoption, out)

    for line in summary_lines(adoption, settings, data_dir, cfg.postgres_image):
        say(line)
    if options.detect:
        for line in detect_lines(cfg, context.docker_factory, data_dir):
            say(line)
    if options.show_secrets:
        say(
            "note: --show-secrets prints secrets inline: they land in your shell history and, while "
            "pulumi runs, in its argument list; without it the lines pipe them instead"
        )
    say("adopt: run these in the project folder, then `pulumi up`:")
    source = _secret_source(options, context.program)
    for setting in settings:
        print(config_set_line(setting, options.stack, options.show_secrets, source), file=out)
    return ExitCode.OK


def _print_secret(key: str, settings: Sequence[Setting], adoption: Adoption, out: TextIO) -> ExitCode:
    # adminPassword is the legacy password whether or not --data-dir was given here.
    wanted = "dbPassword" if key == "adminPassword" else key
    setting = next((s for s in settings if s.key == wanted), None)
    if setting is None:
        raise CommandError(
            f"no value for {NAMESPACE}:{key} in {', '.join(f.label for f in adoption.files)}", ExitCode.NOTHING
        )
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        raise CommandError(
            f"--print-secret writes a secret; pipe it into "
            f"`pulumi config set --secret {NAMESPACE}:{key}` instead of printing it on a terminal"
        )
    out.write(setting.value)  # no newline: the pipe carries the exact value
    out.flush()
    return ExitCode.OK
