"""The EnvFile dynamic resource: a set of keys the stack owns in a .env file.

Floor 1 of the package. Every stack's state stores this module's path (the
dynamic provider is pickled by reference), so it stays importable under this
name, small, and free of imports from the rest of ``hive_infra``.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./-]*")
_DOUBLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_value(value: str) -> str:
    """Quote ``value`` so that python-dotenv reads exactly ``value`` back.

    Plain tokens stay bare; anything else is single-quoted (no escapes are
    needed there) unless it holds a quote, a backslash or a control character,
    in which case it is double-quoted with python-dotenv's escapes.
    """
    if _BARE.fullmatch(value):
        return value
    if not any(ch in value for ch in "'\\\n\r\t"):
        return f"'{value}'"
    return '"' + "".join(_DOUBLE_ESCAPES.get(ch, ch) for ch in value) + '"'


def format_line(key: str, value: str) -> str:
    """One ``KEY=value`` line (without the newline)."""
    return f"{key}={quote_value(value)}"
