"""Values as Pulumi's dynamic provider host hands them to a provider.

Inputs reach ``check``, ``diff`` and the other methods of a dynamic provider
with secrets still wrapped (``{<sig>: <secret sig>, "value": ...}``) and, in a
preview, with values not known yet. These helpers unwrap and recognise them.
Pure: no I/O, nothing but ``pulumi.output.Unknown`` from the SDK.
"""

from __future__ import annotations

from typing import Any

import pulumi

#: Pulumi's wire marker for a value not known yet (preview); see pulumi.runtime.rpc.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def is_unknown(value: Any) -> bool:
    """A value not known yet: the dynamic provider host hands ``check`` and
    ``diff`` a ``pulumi.output.Unknown`` (deserialized with keep_unknowns), the
    wire form is the marker string."""
    return isinstance(value, pulumi.output.Unknown) or (isinstance(value, str) and value == UNKNOWN)


def has_unknown(value: Any) -> bool:
    """``value`` is, or holds at any depth, a value not known yet."""
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_unknown(v) for v in value)
    return is_unknown(value)


def plain(value: Any) -> Any:
    """``value`` with Pulumi's secret wrappers removed, at any depth."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
