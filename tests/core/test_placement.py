"""Where each mode's data lives, in both layouts (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hive_infra.config.rules import IDENTIFIER
from hive_infra.core.modes import MODES
from hive_infra.core.placement import (
    DATABASE_ISOLATION,
    SCHEMA_ISOLATION,
    database_name,
    database_plans,
    place,
    role_search_path,
)

ALL = tuple(MODES.values())


def test_database_isolation_uses_the_legacy_database_names() -> None:
    names = {m.name: database_name("hive", m, DATABASE_ISOLATION) for m in ALL}
    assert names == {"workspace": "hive", "agent": "hive_agent", "genie": "hive_genie"}, (
        "the names the legacy per-mode installs used, so their dumps restore as they are"
    )


def test_schema_isolation_puts_every_mode_in_one_database() -> None:
    assert {database_name("hive", m, SCHEMA_ISOLATION) for m in ALL} == {"hive"}, "the seed's one database"


def test_search_paths_find_the_modes_schema_then_the_extensions() -> None:
    agent_db, agent_schema = (
        place(MODES["agent"], "hive", DATABASE_ISOLATION),
        place(MODES["agent"], "hive", SCHEMA_ISOLATION),
    )
    assert agent_db.search_path == ("agent", "public"), "own schema, then public where the legacy extensions live"
    assert agent_schema.search_path == ("agent", "extensions"), "own schema, then the shared extensions schema"
    workspace = place(MODES["workspace"], "hive", DATABASE_ISOLATION)
    assert workspace.search_path == ("public",) and workspace.url_search_path is None, (
        "workspace lives in public and relies on the role's default"
    )
    assert role_search_path(DATABASE_ISOLATION) == ("public",), "a URL without options searches public"
    assert role_search_path(SCHEMA_ISOLATION) == ("public", "extensions"), "and the extensions schema in one database"


def test_plans_in_database_isolation_one_database_per_mode() -> None:
    plans = database_plans([place(m, "hive", DATABASE_ISOLATION) for m in ALL], "hive")
    assert [(p.name, p.key, p.schemas, p.extensions_schema) for p in plans] == [
        ("hive", "", (), "public"),
        ("hive_agent", "-agent", ("agent",), "public"),
        ("hive_genie", "-genie", ("genie",), "public"),
    ], "the base database keeps the unsuffixed resource names; each mode's schema in its own database"
    assert not any(p.declares_extensions_schema for p in plans), "public is never declared (destroy would drop it)"


def test_plans_in_schema_isolation_one_database_with_every_schema() -> None:
    (plan,) = database_plans([place(m, "hive", SCHEMA_ISOLATION) for m in ALL], "hive", base_exists=True)
    assert (plan.name, plan.key, plan.schemas, plan.existing) == ("hive", "", ("agent", "genie"), True), (
        "one database holding every mode's schema; adopted when the base exists"
    )
    assert plan.declares_extensions_schema, "the shared extensions schema is the stack's"


def test_only_the_base_database_can_be_an_existing_one() -> None:
    plans = database_plans([place(m, "hive", DATABASE_ISOLATION) for m in ALL], "hive", base_exists=True)
    assert [p.existing for p in plans] == [True, False, False], "the stack creates the other modes' databases"


@given(base=st.from_regex(r"[a-z_][a-z0-9_]{0,56}", fullmatch=True), isolation=st.sampled_from(["database", "schema"]))
def test_derived_names_are_identifiers_and_distinct(base: str, isolation: str) -> None:
    names = [database_name(base, m, isolation) for m in ALL]
    assert all(IDENTIFIER.fullmatch(n) for n in names), "a valid base of at most 57 characters gives valid names"
    expected = 3 if isolation == DATABASE_ISOLATION else 1
    assert len(set(names)) == expected, "no two modes share a database in database isolation"


@pytest.mark.parametrize("isolation", ["database", "schema"])
def test_modes_subset_plans_only_the_selected(isolation: str) -> None:
    plans = database_plans([place(MODES["genie"], "hive", isolation)], "hive")
    assert [p.schemas for p in plans] == [("genie",)], "only genie's schema"
