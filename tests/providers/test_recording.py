"""The providers whose resource is their recorded inputs share one base
(``hive_infra.providers.recording``) without it entering stacks' state: each
pickles, as before, by its own module path and class name alone."""

from __future__ import annotations

import base64

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from hive_infra.providers.backup import BACKUP_ID, DataBackupProvider
from hive_infra.providers.recording import RecordingProvider
from hive_infra.providers.server_guard import GUARD_ID, ServerGuardProvider
from hive_infra.providers.stack_layout import LAYOUT_ID, StackLayoutProvider

RECORDING = {StackLayoutProvider: LAYOUT_ID, DataBackupProvider: BACKUP_ID, ServerGuardProvider: GUARD_ID}
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "pw"}


@pytest.mark.parametrize("provider", sorted(RECORDING, key=lambda p: p.__name__), ids=lambda p: p.__name__)
def test_the_pickle_names_the_provider_not_the_base(provider: type[RecordingProvider]) -> None:
    raw = base64.b64decode(serialize_provider(provider()))  # the SDK's own code path
    assert provider.__module__.encode() in raw and provider.__name__.encode() in raw, "pickled by its own path"
    assert b"recording" not in raw, "the shared base is code, never a name stored in a stack's state"
    assert type(dill.loads(raw)) is provider, f"it loads back as {provider.__name__}"


@pytest.mark.parametrize("provider", sorted(RECORDING, key=lambda p: p.__name__), ids=lambda p: p.__name__)
def test_create_and_update_record_every_input_under_the_one_id(provider: type[RecordingProvider]) -> None:
    props = {k: f"v-{k}" for k in provider.INPUTS}
    created = provider().create({**props, "extra": "not an input"})
    assert created.id == RECORDING[provider] and created.outs == props, "the inputs, and only they, under one id"
    assert provider().update(created.id, props, props).outs == props, "an update records them again"
    diff = provider().diff(created.id, props, {**props, provider.INPUTS[0]: "changed"})
    assert diff.changes and not diff.replaces, "a changed input is an update in place, never a replace"


def test_a_secret_is_compared_unwrapped_and_a_later_input_only_once_recorded() -> None:
    old = {k: "x" for k in ServerGuardProvider.INPUTS}
    same = ServerGuardProvider().diff(GUARD_ID, {**old, "adminPassword": SECRET}, {**old, "adminPassword": "pw"})
    assert not same.changes, "the same password, wrapped or not, is no change"
    layout = {k: "x" for k in StackLayoutProvider.INPUTS if k not in StackLayoutProvider.LATER_INPUTS}
    assert not StackLayoutProvider().diff(LAYOUT_ID, layout, {**layout, "volumes": {"agent": []}}).changes, (
        "a record made before `volumes` existed is not changed by it alone"
    )
    assert "volumes" not in StackLayoutProvider.recorded(layout), "and is not recorded as None until given"
