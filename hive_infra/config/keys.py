"""The declarations read back (``CONFIG_KEYS``), and ``parse_config``.

``parse_config`` is pure: it takes the raw strings Pulumi hands a program
(arrays as JSON, booleans as ``true``/``false``) and returns a validated
``HiveConfig`` or raises one ``ConfigError`` listing every problem, each
naming its key and the fix. The cross-key rules (``cross_rules``) run on the
values of every key together.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hive_infra.config import cross_rules, rules
from hive_infra.config.rules import Problems
from hive_infra.config.settings import NAMESPACE, ConfigError, Declaration, HiveConfig

# --- the declarations, read back ------------------------------------------------


@dataclass(frozen=True)
class ConfigKey:
    """One key of the ``hive`` namespace, as the declarations define it."""

    name: str
    field: str
    type: str  # Pulumi.yaml type: string, integer, boolean, array
    default: Any  # None: no default (generated, derived or unset)
    declaration: Declaration

    @property
    def secret(self) -> bool:
        return self.declaration.secret

    @property
    def description(self) -> str:
        return self.declaration.description

    @property
    def yaml_default(self) -> Any:
        """The default as Pulumi.yaml writes it (arrays as lists)."""
        return list(self.default) if isinstance(self.default, tuple) else self.default


_PULUMI_TYPES = {int: "integer", bool: "boolean", str: "string", tuple: "array"}


def _camel(field_name: str) -> str:
    head, *rest = field_name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _pulumi_type(annotation: Any) -> str:
    """The Pulumi.yaml type of a field annotation (``str | None`` is a string)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = typing.get_origin(annotation) or annotation
    if base is tuple:
        return "array"
    if args and base is not tuple:
        return _pulumi_type(args[0])
    return _PULUMI_TYPES[base]


def _config_keys() -> tuple[ConfigKey, ...]:
    hints = typing.get_type_hints(HiveConfig)
    return tuple(
        ConfigKey(_camel(f.name), f.name, _pulumi_type(hints[f.name]), f.default, f.metadata["setting"])
        for f in dataclasses.fields(HiveConfig)
    )


CONFIG_KEYS: tuple[ConfigKey, ...] = _config_keys()
KEYS_BY_NAME: Mapping[str, ConfigKey] = {k.name: k for k in CONFIG_KEYS}
#: The keys set with ``pulumi config set --secret``, in declaration order.
SECRET_KEY_NAMES: tuple[str, ...] = tuple(k.name for k in CONFIG_KEYS if k.secret)
#: The secrets the stack generates when they are unset (a legacy install has each of them).
GENERATED_SECRET_KEY_NAMES: tuple[str, ...] = tuple(
    k.name for k in CONFIG_KEYS if k.secret and (k.declaration.default_doc or "").startswith("generated")
)


# --- parsing -----------------------------------------------------------------------


def _parse(spec: ConfigKey, text: str, problems: Problems) -> Any:
    """One raw string as the key's type; None (with a problem) when it is not one."""
    if spec.type == "integer":
        return rules.parse_int(text, spec.name, problems)
    if spec.type == "boolean":
        return rules.parse_bool(text, spec.name, problems)
    if spec.type == "array":
        items = rules.parse_string_list(text, spec.name, problems)
        return None if items is None else tuple(items)
    # Surrounding blanks in a name or path are a copy-paste accident; a secret is taken as given.
    return text if spec.secret else text.strip()


def parse_config(raw: Mapping[str, str], known_keys: Sequence[str] = ()) -> HiveConfig:
    """Build a validated ``HiveConfig`` from raw Pulumi config strings.

    ``raw`` maps key names without the namespace (``dbPort``) to the strings
    Pulumi stores; a missing key takes its default. ``known_keys`` lists every
    key set in the namespace, so that a misspelt key is reported instead of
    silently ignored.
    """
    problems = Problems(NAMESPACE)
    for key in known_keys:
        if key not in KEYS_BY_NAME:
            close = difflib.get_close_matches(key, list(KEYS_BY_NAME), n=1)
            hint = f"did you mean {NAMESPACE}:{close[0]}?" if close else "see the README for the keys"
            problems.add(key, f"is not a setting of this program; {hint}")

    values: dict[str, Any] = {}
    for spec in CONFIG_KEYS:
        text = raw.get(spec.name)
        value = spec.default if text is None else _parse(spec, text, problems)
        values[spec.name] = value
        if value is not None:
            for check in spec.declaration.checks:
                for message in check(value):
                    problems.add(spec.name, message)
    parsed = {spec.field: values[spec.name] for spec in CONFIG_KEYS}
    defaults = {spec.field: spec.default for spec in CONFIG_KEYS}
    cross_rules.check_together(cross_rules.Candidate.of(parsed), problems, defaults)
    if problems.items:
        raise ConfigError(problems.items)
    # Every key parsed and every rule kept: each value has its field's type now.
    return HiveConfig(**parsed)
