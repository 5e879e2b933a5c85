"""What the providers whose resource is their recorded inputs share (StackLayout,
DataBackup, ServerGuard): ``create`` and ``update`` store the inputs under one
fixed id, ``diff`` reports a change of any of them (secrets compared unwrapped,
never a replace), ``delete`` has nothing outside the state to remove.

Each provider keeps its own class, module and name (pickled into stacks' state,
docs/architecture.md); this base adds only methods and class attributes, so a
pickle of a provider is the same bytes as before it existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
import pulumi.dynamic

from hive_infra.providers.wire import plain


class RecordingProvider(pulumi.dynamic.ResourceProvider):
    """A provider whose resource is its inputs as recorded. Holds no state."""

    #: The id of the provider's one resource in a stack.
    RESOURCE_ID: ClassVar[str]
    #: The inputs recorded, in order.
    INPUTS: ClassVar[tuple[str, ...]]
    #: Inputs a stack recorded before they existed lacks: recorded, and compared, only once given.
    LATER_INPUTS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def recorded(cls, props: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs as recorded: a later one only when given."""
        return {k: props.get(k) for k in cls.INPUTS if k in props or k not in cls.LATER_INPUTS}

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [
            k
            for k in self.INPUTS
            if (k in olds or k not in self.LATER_INPUTS) and plain(olds.get(k)) != plain(news.get(k))
        ]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(self.RESOURCE_ID, self.recorded(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(self.recorded(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing outside the state to remove."""
