"""The StackLayout dynamic resource: the stack's record of where its modes' data lives.

Every other resource of the stack waits for it, and its provider's ``check``
compares the layout being deployed with the one recorded by the last
deployment: a change of ``isolation`` on a deployed stack would leave each
mode's existing rows behind in the other layout (nothing is dropped, but agent
and genie would come up on empty databases), so it is refused, before any
other resource is touched, unless ``allowChange`` says the user means it.

Like ``hive_infra.envfile``, this module's path is stored in every stack's
state (the provider is pickled by reference): ``hive_infra.stack_layout.
StackLayoutProvider`` and the type ``pulumi-python:dynamic/hive:StackLayout``
are public names; keep them importable.

Inputs (and outputs): ``isolation`` (``database`` or ``schema``),
``databases`` (``{mode: database}``), ``allowChange`` (bool).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

#: The id of the one StackLayout of a stack.
LAYOUT_ID = "layout"
_INPUTS = ("isolation", "databases", "allowChange")


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
        "place with `pulumi config set hive:allowIsolationChange true` (README: Changing isolation)"
    )


class StackLayoutProvider(pulumi.dynamic.ResourceProvider):
    """Records the layout; refuses an unannounced change of isolation. Holds no state."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs = {k: news.get(k) for k in _INPUTS}
        problem = change_problem(olds, inputs)
        failures = [pulumi.dynamic.CheckFailure("isolation", problem)] if problem else []
        return pulumi.dynamic.CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [k for k in _INPUTS if olds.get(k) != news.get(k)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(LAYOUT_ID, {k: props.get(k) for k in _INPUTS})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult({k: news.get(k) for k in _INPUTS})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing outside the state to remove."""


@dataclass(frozen=True)
class StackLayoutArgs:
    isolation: str
    databases: Mapping[str, str]
    allow_change: bool = False


class StackLayout(pulumi.dynamic.Resource, module="hive", name="StackLayout"):
    """See the module's docstring."""

    isolation: pulumi.Output[str]
    databases: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: StackLayoutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"isolation": args.isolation, "databases": dict(args.databases), "allowChange": args.allow_change}
        super().__init__(StackLayoutProvider(), name, props, opts)
