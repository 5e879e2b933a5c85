"""Recording mocks and a recording monitor: every registration with its inputs,
options and secrets, and one secret unwrapper (``reveal``)."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc


@dataclass(frozen=True)
class Secret:
    """An input the program marked secret, as the engine would store it."""

    value: Any


def is_wire_secret(value: Any) -> bool:
    """True for a value in Pulumi's wire form of a secret."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _mark_secrets(value: Any) -> Any:
    """Replace the wire form of a secret with ``Secret(value)``, recursively."""
    if is_wire_secret(value):
        return Secret(_mark_secrets(value.get("value")))
    if isinstance(value, dict):
        return {k: _mark_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_secrets(v) for v in value]
    return value


def reveal(value: Any) -> Any:
    """The value with every secret wrapper removed: ``Secret`` markers and
    Pulumi's wire form alike (the one secret unwrapper of the tests)."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if is_wire_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


@dataclass
class Registration:
    """One resource as the program registered it, options included."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    custom: bool
    parent: str
    provider: str
    protect: bool
    deleted_with: str
    dependencies: list[str]
    retain_on_delete: bool
    delete_before_replace: bool
    additional_secret_outputs: list[str]
    #: Input paths whose change replaces the resource (``replace_on_changes``).
    replace_on_changes: list[str] = field(default_factory=list)
    #: The id the engine would take over instead of creating (``import_``); "" for none.
    import_id: str = ""


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like an engine that accepts every input; a RandomPassword gets
    a deterministic ``result`` of the requested length, so that renderers see
    realistic values. With ``preview`` it answers like the first preview of a
    new stack: inputs only, every computed output unknown."""

    def __init__(self, preview: bool = False) -> None:
        self.counter = 0
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.counter += 1
        state = dict(args.inputs)
        if self.preview:
            # A first preview knows inputs only: computed outputs stay unknown.
            return None, state
        if args.typ == "random:index/randomPassword:RandomPassword":
            alphabet = string.ascii_letters + string.digits
            state["result"] = "".join(
                alphabet[(self.counter * 7 + i) % len(alphabet)] for i in range(int(args.inputs["length"]))
            )
        if args.typ == "docker:index/remoteImage:RemoteImage":
            state["imageId"] = f"sha256:{self.counter:064x}"
        if args.typ == "docker:index/registryImage:RegistryImage":
            state["sha256Digest"] = f"sha256:{self.counter:064x}"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Keeps the raw registration requests, where resource options are visible."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=_mark_secrets(rpc.deserialize_properties(request.object, keep_unknowns=True)),
                    custom=request.custom,
                    parent=request.parent,
                    provider=request.provider,
                    protect=request.protect,
                    deleted_with=request.deletedWith,
                    dependencies=list(request.dependencies),
                    retain_on_delete=request.retainOnDelete,
                    delete_before_replace=request.deleteBeforeReplace,
                    replace_on_changes=list(request.replaceOnChanges),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    import_id=request.importId,
                )
            )
        return response
