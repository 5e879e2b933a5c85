"""The stack's configuration: each key declared once, parsed and validated in one place.

``settings`` declares every key of the ``hive`` namespace as a field of
``HiveConfig``; ``keys`` reads the declarations back and holds ``parse_config``;
``rules`` are the checks of one value, ``cross_rules`` those of keys together;
``docs`` renders Pulumi.yaml's ``config:`` block and the README's table from
the declarations (a test proves the files agree). All of it is pure; only
``load`` (``load_config``, for the program) imports ``pulumi``.
"""

from hive_infra.config.keys import (
    CONFIG_KEYS,
    GENERATED_SECRET_KEY_NAMES,
    KEYS_BY_NAME,
    SECRET_KEY_NAMES,
    ConfigKey,
    parse_config,
)
from hive_infra.config.settings import DEFAULT_SSL_MODE, NAMESPACE, ConfigError, Declaration, HiveConfig

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_SSL_MODE",
    "GENERATED_SECRET_KEY_NAMES",
    "KEYS_BY_NAME",
    "NAMESPACE",
    "SECRET_KEY_NAMES",
    "ConfigError",
    "ConfigKey",
    "Declaration",
    "HiveConfig",
    "parse_config",
]
