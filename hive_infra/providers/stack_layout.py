"""The StackLayout dynamic resource: the stack's record of where its modes' data lives.

Every other resource of the stack waits for it, and its provider's ``check``
compares the layout being deployed with the one recorded by the last
deployment: a change of ``isolation`` on a deployed stack would leave each
mode's existing rows behind in the other layout (nothing is dropped, but agent
and genie would come up on empty databases), so it is refused, before any
other resource is touched, unless ``allowChange`` says the user means it.
Two more changes that would lose rows are refused the same way, with no key
to allow them (a destroy, which backs the data up first, and a restore move
the data instead): a new place for the stack's own server's data
(``namePrefix`` renames the data volume, which the engine would delete and
make anew; ``dataPath`` or ``postgresMode`` switch to other data), and a mode
removed from a stack whose database objects are dropped on delete
(``dropSchemasOnDestroy``), which would drop that mode's database.

Like ``hive_infra.providers.envfile``, this module's path is stored in every stack's
state (the provider is pickled by reference), and before the move of issue #21
it was ``hive_infra.stack_layout`` (a shim now, the same module): both paths,
``StackLayoutProvider`` and the type ``pulumi-python:dynamic/hive:StackLayout`` are
public names; keep them importable.

Inputs (and outputs): ``isolation`` (``database`` or ``schema``),
``databases`` (``{mode: database}``), ``allowChange`` (bool), ``data``
(``volume <name>``, ``folder <path>``, or None for a server elsewhere) and
``dropsData`` (bool: ``dropSchemasOnDestroy``), ``volumes`` (``{mode: [its
API volumes]}``: the up that removes a mode says what it kept, its rows and
these volumes, and how to delete them; a record without it changes nothing
until an up that changes the layout). A stack recorded before
``data`` and ``dropsData`` existed has neither: nothing is refused on their
account until an ``up`` records them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.dynamic

from hive_infra.providers.recording import RecordingProvider

#: The id of the one StackLayout of a stack.
LAYOUT_ID = "layout"
_INPUTS = ("isolation", "databases", "allowChange", "data", "dropsData", "volumes")
#: Inputs a stack recorded before they existed lacks: no change to report until then.
_LATER_INPUTS = ("volumes",)
#: How a refusal tells a user to move the data instead.
MOVE_DATA = (
    "move the data instead: pulumi destroy (it first dumps every mode's database into hive:backupDir and "
    "prints the folder), change the configuration, pulumi up, then python -m hive_infra db restore <that folder> "
    "(docs/backups-and-migration.md: Moving the data)"
)


def change_problem(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """Why ``new`` may not replace the recorded ``old`` layout, or None."""
    before, after = old.get("isolation"), new.get("isolation")
    if not before or not after or before == after or new.get("allowChange"):
        return None
    moved = sorted(
        f"{mode} ({old_db} -> {new_db})"
        for mode, new_db in (new.get("databases") or {}).items()
        if (old_db := (old.get("databases") or {}).get(mode)) and old_db != new_db
    )
    where = f": {', '.join(moved)} would start on empty databases" if moved else ""
    return (
        f"hive:isolation is {after!r} but this stack was deployed with {before!r}{where}, while their rows stay "
        "where they are (nothing is dropped). Back the data up first (python -m hive_infra db dump), then either "
        f"set it back (pulumi config set hive:isolation {before}), or destroy, change and restore, or switch in "
        "place with `pulumi config set hive:allowIsolationChange true` (docs/operations.md: Changing isolation)"
    )


def data_problem(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """Why the stack's own server may not move from the recorded data to ``new``'s, or None."""
    before, after = old.get("data"), new.get("data")
    if not before or before == after:
        return None
    fate = f"delete {before}" if str(before).startswith("volume ") else f"leave {before}"
    return (
        f"this stack's PostgreSQL data is in {before}, but the configuration puts it in "
        f"{after or 'a server elsewhere (postgresMode=external)'} (hive:namePrefix, hive:dataPath or "
        f"hive:postgresMode changed): the up would {fate} with every mode's rows and start the modes on other "
        f"data, so it is refused and nothing was changed. Set the key back, or {MOVE_DATA}"
    )


def removal_problem(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """Why modes may not leave a stack that drops its database objects on delete, or None.

    The objects being deleted keep the options they were recorded with, so the
    recorded ``dropsData`` decides, not the new one.
    """
    if not old.get("dropsData"):
        return None
    before, after = old.get("databases") or {}, new.get("databases") or {}
    gone = [mode for mode in before if mode not in after]
    if not gone:
        return None
    listed = ", ".join(f"{mode} ({before[mode]})" for mode in gone)
    return (
        f"hive:modes no longer lists {listed}, and this stack drops its database objects on delete "
        "(dropSchemasOnDestroy=true), so the up would drop that data: refused, nothing was changed. Back it up "
        f"(python -m hive_infra db dump{''.join(f' --mode {m}' for m in gone)}), then keep the mode, or first "
        "set hive:dropSchemasOnDestroy false and pulumi up with the mode still listed (its data is then kept when "
        "it goes), then remove it"
    )


def kept_note(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """What stays of the modes ``new`` no longer lists, and how to delete it, or None."""
    before, after = old.get("databases") or {}, new.get("databases") or {}
    gone = [mode for mode in before if mode not in after]
    if not gone or old.get("dropsData"):
        return None
    volumes = old.get("volumes") or {}
    parts = []
    for mode in gone:
        names = volumes.get(mode) or []
        where = f"the volumes {', '.join(names)}" if names else f"its API volumes (docker volume ls | grep {mode})"
        parts.append(f"{mode}: its rows in database {before[mode]} and {where}")
    return (
        f"hive:modes no longer lists {', '.join(gone)}; kept, so that adding the mode back finds them: "
        f"{'; '.join(parts)}. To delete them for good: back up first (python -m hive_infra db dump), then "
        "docker volume rm <volume>, and drop the mode's database or schema on the server "
        "(docs/operations.md: Removing a mode)"
    )


class StackLayoutProvider(RecordingProvider):
    """Records the layout; refuses the changes the module's docstring names. Holds no state."""

    RESOURCE_ID = LAYOUT_ID
    INPUTS = _INPUTS
    LATER_INPUTS = _LATER_INPUTS

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs = self.recorded(news)
        problems = {
            "isolation": change_problem(olds, inputs),
            "data": data_problem(olds, inputs),
            "databases": removal_problem(olds, inputs),
        }
        failures = [pulumi.dynamic.CheckFailure(key, text) for key, text in problems.items() if text]
        return pulumi.dynamic.CheckResult(inputs, failures)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        note = kept_note(olds, news)
        if note:
            pulumi.log.warn(note)  # seen in the up's output: what the removed mode left, and how to delete it
        return super().update(_id, olds, news)


@dataclass(frozen=True)
class StackLayoutArgs:
    isolation: str
    databases: Mapping[str, str]
    allow_change: bool = False
    #: ``HiveConfig.data_location``.
    data: str | None = None
    drops_data: bool = False
    #: ``{mode: [its API volumes]}``, named when a removed mode leaves them.
    volumes: Mapping[str, Sequence[str]] = field(default_factory=dict)


class StackLayout(pulumi.dynamic.Resource, module="hive", name="StackLayout"):
    """See the module's docstring."""

    isolation: pulumi.Output[str]
    databases: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: StackLayoutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "isolation": args.isolation,
            "databases": dict(args.databases),
            "allowChange": args.allow_change,
            "data": args.data,
            "dropsData": args.drops_data,
            "volumes": {mode: list(names) for mode, names in args.volumes.items()},
        }
        super().__init__(StackLayoutProvider(), name, props, opts)
