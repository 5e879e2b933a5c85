"""The StackLayout provider: refuses an unannounced change of isolation, and changes that would lose rows."""

from __future__ import annotations

import base64

import dill
import pytest

from hive_infra.providers import stack_layout
from hive_infra.providers.stack_layout import StackLayoutProvider

DATABASES = {"workspace": "hive", "agent": "hive_agent", "genie": "hive_genie"}
ONE_DATABASE = {"workspace": "hive", "agent": "hive", "genie": "hive"}


VOLUME = "volume hive-postgres-data"


def layout(
    isolation: str,
    databases: dict[str, str],
    allow: bool = False,
    data: str | None = VOLUME,
    drops: bool = False,
) -> dict[str, object]:
    return {"isolation": isolation, "databases": databases, "allowChange": allow, "data": data, "dropsData": drops}


def test_a_new_stack_takes_any_layout() -> None:
    result = StackLayoutProvider().check({}, layout("schema", ONE_DATABASE))
    assert result.failures == [], "nothing is recorded yet: nothing to protect"
    assert result.inputs == layout("schema", ONE_DATABASE), "the layout is recorded as given"


def test_the_same_layout_passes_and_diffs_clean() -> None:
    provider = StackLayoutProvider()
    old = layout("database", DATABASES)
    assert provider.check(old, layout("database", DATABASES)).failures == [], "no change, no problem"
    assert provider.diff("layout", old, layout("database", DATABASES)).changes is False, "and nothing to update"


def test_a_change_of_isolation_is_refused_naming_the_key_the_modes_and_the_ways_out() -> None:
    result = StackLayoutProvider().check(layout("schema", ONE_DATABASE), layout("database", DATABASES))
    assert len(result.failures) == 1 and result.failures[0].property == "isolation", "one failure, on isolation"
    reason = result.failures[0].reason
    assert "hive:isolation is 'database' but this stack was deployed with 'schema'" in reason, "what changed"
    assert "agent (hive -> hive_agent)" in reason and "genie (hive -> hive_genie)" in reason, "who is affected"
    assert "workspace" not in reason.split("would start")[0].split(":", 1)[1], "workspace keeps its database"
    assert "db dump" in reason and "hive:allowIsolationChange" in reason, "how to back up, and how to go on"


def test_the_opt_in_lets_the_change_through_and_diff_records_it() -> None:
    provider = StackLayoutProvider()
    old, new = layout("schema", ONE_DATABASE), layout("database", DATABASES, allow=True)
    assert provider.check(old, new).failures == [], "the user opted in"
    assert provider.diff("layout", old, new).changes is True, "the new layout is recorded by an update"
    assert provider.update("layout", old, new).outs == new, "update returns the full record"


def test_the_provider_pickles_by_reference() -> None:
    raw = dill.dumps(StackLayoutProvider(), recurse=True)
    assert b"hive_infra.providers.stack_layout" in raw and len(base64.b64encode(raw)) < 200, (
        "stored in state by its module path, like EnvFile's provider"
    )


@pytest.mark.parametrize(
    ("new_data", "fate"),
    [
        ("volume h2-postgres-data", "delete volume hive-postgres-data"),
        ("folder /srv/hive/pg", "delete volume hive-postgres-data"),
        (None, "delete volume hive-postgres-data"),
    ],
)
def test_a_new_place_for_the_data_is_refused(new_data: str | None, fate: str) -> None:
    result = StackLayoutProvider().check(layout("database", DATABASES), layout("database", DATABASES, data=new_data))
    assert [f.property for f in result.failures] == ["data"], f"moving to {new_data} is refused, on data"
    reason = result.failures[0].reason
    assert fate in reason and "every mode's rows" in reason, "it says what the up would have lost"
    assert "hive:namePrefix" in reason and "pulumi destroy" in reason and "db restore" in reason, (
        "which keys move the data, and the way that keeps it: destroy (which backs up), up, restore"
    )


def test_a_bound_folder_moved_elsewhere_is_refused_too() -> None:
    old = layout("database", DATABASES, data="folder /srv/old")
    result = StackLayoutProvider().check(old, layout("database", DATABASES, data="folder /srv/new"))
    assert [f.property for f in result.failures] == ["data"], "the server would start on other data"
    assert "leave folder /srv/old" in result.failures[0].reason, "a bound folder is left, not deleted"


@pytest.mark.parametrize(
    ("old_data", "new_data"),
    [(None, VOLUME), (None, None), (VOLUME, VOLUME)],
    ids=["recorded-before-data-existed-or-external", "external-stays-external", "same-volume"],
)
def test_the_data_passes_where_nothing_was_recorded_or_nothing_moves(
    old_data: str | None, new_data: str | None
) -> None:
    old, new = layout("database", DATABASES, data=old_data), layout("database", DATABASES, data=new_data)
    assert StackLayoutProvider().check(old, new).failures == [], "nothing recorded, or the same place"


def test_a_state_recorded_before_data_existed_is_not_refused() -> None:
    old = {"isolation": "database", "databases": DATABASES, "allowChange": False}
    result = StackLayoutProvider().check(old, layout("database", DATABASES, data="volume h2-postgres-data"))
    assert result.failures == [], "no record of the data: nothing to compare (the up records it)"
    assert StackLayoutProvider().diff("layout", old, layout("database", DATABASES)).changes, "and records it"


def test_a_mode_removed_from_a_stack_that_drops_its_objects_is_refused() -> None:
    old = layout("database", DATABASES, data=None, drops=True)
    kept = {"workspace": "hive", "agent": "hive_agent"}
    result = StackLayoutProvider().check(old, layout("database", kept, data=None, drops=False))
    assert [f.property for f in result.failures] == ["databases"], (
        "the deleted objects keep the options recorded with them: the old dropsData decides"
    )
    reason = result.failures[0].reason
    assert "genie (hive_genie)" in reason and "db dump --mode genie" in reason, "names the mode, how to back it up"
    assert "hive:dropSchemasOnDestroy false" in reason, "and how to remove it while keeping its data"


def test_modes_may_leave_a_stack_that_keeps_its_objects() -> None:
    old = layout("database", DATABASES, data=None, drops=False)
    result = StackLayoutProvider().check(old, layout("database", {"workspace": "hive"}, data=None))
    assert result.failures == [], "their databases are retained on the server, with their rows"


def test_every_problem_is_reported_together() -> None:
    old = layout("schema", ONE_DATABASE, drops=True)
    new = layout("database", {"workspace": "hive"}, data="volume h2-postgres-data")
    failures = StackLayoutProvider().check(old, new).failures
    assert sorted(f.property for f in failures) == ["data", "databases", "isolation"], "one up, every refusal"


# --- a removed mode's kept data, said by the up (#29) ---------------------------------------

GENIE_VOLUMES = ["hive-genie-logs", "hive-genie-data"]


def test_the_up_removing_a_mode_says_what_stayed_and_how_to_delete_it(monkeypatch: pytest.MonkeyPatch) -> None:
    warned: list[str] = []
    monkeypatch.setattr(stack_layout.pulumi.log, "warn", lambda text, *a, **k: warned.append(text))
    old = {**layout("database", DATABASES), "volumes": {"genie": GENIE_VOLUMES, "agent": []}}
    new = {**layout("database", {k: v for k, v in DATABASES.items() if k != "genie"}), "volumes": {}}
    assert StackLayoutProvider().diff("layout", old, new).changes, "a removed mode is a change of the record"
    StackLayoutProvider().update("layout", old, new)
    assert len(warned) == 1, f"one note for the removal: {warned}"
    note = warned[0]
    assert "genie" in note and "hive_genie" in note and all(v in note for v in GENIE_VOLUMES), (
        f"names the mode, its database and both of its volumes, which stay: {note}"
    )
    assert "docker volume rm" in note and "adding the mode back" in note, f"how to delete them, and why kept: {note}"
    warned.clear()
    StackLayoutProvider().update("layout", new, new)
    assert not warned, "no mode removed: nothing to say"


def test_a_record_from_before_volumes_previews_no_change() -> None:
    old = layout("database", DATABASES)
    new = {**old, "volumes": {"workspace": ["hive-workspace-logs", "hive-workspace-data"]}}
    assert not StackLayoutProvider().diff("layout", old, new).changes, (
        "a stack recorded before `volumes` existed previews no change on upgrade (the state is a contract)"
    )
