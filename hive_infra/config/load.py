"""``load_config``: the program's one read of Pulumi config, before any resource exists.

The only module of ``hive_infra.config`` that imports ``pulumi``: the commands
(``python -m hive_infra``) validate config with ``parse_config`` and start
without loading Pulumi's SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi

from hive_infra.config.keys import CONFIG_KEYS, parse_config
from hive_infra.config.settings import NAMESPACE, ConfigError, HiveConfig


class ProgramConfigError(ConfigError, pulumi.RunError):
    """A ``ConfigError`` the Pulumi program raises: the engine prints its message, with no traceback."""


def load_config(
    config: pulumi.Config | None = None,
    all_keys: Callable[[], Sequence[str]] | None = None,
) -> HiveConfig:
    """Read the ``hive`` namespace from Pulumi and validate it (no resource is touched)."""
    config = config or pulumi.Config(NAMESPACE)
    raw = {spec.name: value for spec in CONFIG_KEYS if (value := config.get(spec.name)) is not None}
    known = (all_keys or _namespace_keys)()
    try:
        return parse_config(raw, known)
    except ConfigError as exc:
        raise ProgramConfigError(exc.problems) from None


def _namespace_keys() -> list[str]:
    """Every key set in the namespace, as the language host handed them over."""
    from pulumi.runtime.config import CONFIG, get_config_env

    prefix = f"{NAMESPACE}:"
    full_keys = {*get_config_env(), *CONFIG.get()}
    # `pulumi config set --path hive:modes[0]` stores `hive:modes`; keep the base name only.
    return sorted({key[len(prefix) :].split("[")[0].split(".")[0] for key in full_keys if key.startswith(prefix)})
