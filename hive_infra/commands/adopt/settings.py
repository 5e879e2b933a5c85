"""From what the legacy files say to the ``hive:`` config keys that carry it over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hive_infra.config import KEYS_BY_NAME, NAMESPACE, ConfigError, HiveConfig, parse_config
from hive_infra.config.rules import IDENTIFIER
from hive_infra.core.errors import CommandError
from hive_infra.core.names import is_this_machine
from hive_infra.legacy.data_dir import DataDir
from hive_infra.legacy.env_files import Adoption


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    secret: bool
    origin: str

    def __repr__(self) -> str:
        shown = "***" if self.secret else repr(self.value)
        return f"Setting({self.key}={shown})"


def settings_for(adoption: Adoption, data_dir: DataDir | None) -> list[Setting]:
    """The config keys to set, in print order."""
    out: list[Setting] = []
    default_port = str(KEYS_BY_NAME["dbPort"].default)
    if adoption.user is not None and adoption.password is not None:
        if data_dir is None and not IDENTIFIER.fullmatch(adoption.user.value):
            # A new, empty database: the user name carries nothing over, and the
            # stack creates plain lower-case roles only. The .env files follow it.
            adoption.warnings.append(
                f"{adoption.user.where}: the legacy user {adoption.user.value!r} is not a plain lower-case name; "
                f"without --data-dir the new database uses hive:dbUser's default "
                f"{KEYS_BY_NAME['dbUser'].default!r} (your .env files are rewritten with it)"
            )
        else:
            out.append(Setting("dbUser", adoption.user.value, False, adoption.user.where))
        out.append(Setting("dbPassword", adoption.password.value, True, adoption.password.where))
    if adoption.database is not None:
        out.append(Setting("database", adoption.database.value, False, adoption.database.where))
    port = adoption.port
    host = adoption.primary.host
    if port is not None and port.value.strip() != default_port:
        if host is None or is_this_machine(host):
            out.append(Setting("dbPort", port.value.strip(), False, port.where))
        else:
            adoption.warnings.append(
                f"{port.where}: the port is that of host {host!r}, not a port on this machine; "
                f"hive:dbPort is left at its default {default_port}"
            )
    if adoption.key_base is not None:
        out.append(Setting("apiKeyBase", adoption.key_base.value, True, adoption.key_base.where))
    if data_dir is not None and adoption.user is not None and adoption.password is not None:
        out.append(Setting("dataPath", str(data_dir.mount), False, "--data-dir"))
        out.append(Setting("adminUser", adoption.user.value, False, adoption.user.where))
        out.append(Setting("adminPassword", adoption.password.value, True, adoption.password.where))
    return out


def validate(settings: Sequence[Setting]) -> HiveConfig:
    """Run the program's own ``parse_config`` on the values adopt would set."""
    raw = {s.key: s.value for s in settings}
    try:
        return parse_config(raw)
    except ConfigError as exc:
        origins = {f"{NAMESPACE}:{s.key}": s.origin for s in settings}
        problems = []
        for problem in exc.problems:
            key = problem.split(": ", 1)[0]
            origin = origins.get(key)
            problems.append(f"{origin}: {problem}" if origin else problem)
        problems.append(
            "the legacy value does not meet this program's rules: change it in the legacy "
            "installation (for a password: ALTER ROLE ... PASSWORD, then its .env files) and run adopt again"
        )
        raise CommandError(problems) from None
