"""The StackLayout provider: refuses an unannounced change of isolation."""

from __future__ import annotations

import base64

import dill

from hive_infra.stack_layout import StackLayoutProvider

DATABASES = {"workspace": "hive", "agent": "hive_agent", "genie": "hive_genie"}
ONE_DATABASE = {"workspace": "hive", "agent": "hive", "genie": "hive"}


def layout(isolation: str, databases: dict[str, str], allow: bool = False) -> dict[str, object]:
    return {"isolation": isolation, "databases": databases, "allowChange": allow}


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
    assert b"hive_infra.stack_layout" in raw and len(base64.b64encode(raw)) < 200, (
        "stored in state by its module path, like EnvFile's provider"
    )
