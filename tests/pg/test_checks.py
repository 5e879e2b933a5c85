"""Every refusal of a dump or restore, decided from plain facts (``hive_infra.pg.checks``)."""

from __future__ import annotations

from hive_infra.pg.checks import (
    TargetFacts,
    count_differences,
    dump_tool_problem,
    overlap_problems,
    restore_tool_problem,
    target_problems,
)
from hive_infra.pg.manifest import Extension, TableCount
from hive_infra.pg.versions import ToolVersion, parse_tool_version, server_major

TABLES = (TableCount("hive", "component_versions", 300), TableCount("ai", "agno_memories", 75))
CITEXT = Extension("citext", "public", "1.6")


def tool(program: str, major: int, where: str = "local /usr/bin/" + "pg_dump") -> ToolVersion:
    return ToolVersion(program, f"{program} (PostgreSQL) {major}.2", major, where)


def target(**changes: object) -> TargetFacts:
    values: dict[str, object] = {
        "describe": "hive@localhost:5532/hive_agent",
        "database": "hive_agent",
        "server_major": 16,
        "tables": frozenset(),
        "schemas": frozenset({"public", "agent"}),
        "extensions": (Extension("citext", "public", "1.6"),),
    }
    values.update(changes)
    return TargetFacts(**values)  # type: ignore[arg-type]


def test_versions_are_read_from_the_programs_own_answer() -> None:
    found = parse_tool_version("pg_dump", "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", "local x")
    assert found is not None and found.major == 15 and found.text.endswith("deb12u1)"), "major and text"
    assert parse_tool_version("pg_dump", "pg_dump (PostgreSQL) 9.6.24\n", "x").major == 9, "old numbering"  # type: ignore[union-attr]
    assert parse_tool_version("pg_dump", "bash: pg_dump: not found", "x") is None, "not a PostgreSQL program"
    assert server_major(160004) == 16 and server_major(90624) == 9, "server_version_num to major"


def test_pg_dump_must_be_at_least_the_servers_major() -> None:
    assert dump_tool_problem(tool("pg_dump", 16), 16, "localhost:5532") is None, "same major: fine"
    assert dump_tool_problem(tool("pg_dump", 17), 16, "localhost:5532") is None, "newer: fine"
    problem = dump_tool_problem(tool("pg_dump", 15), 16, "localhost:5532 (workspace (hive))")
    assert problem is not None and "is major 15 but localhost:5532 (workspace (hive)) runs PostgreSQL 16" in problem
    assert "postgresql-client-16" in problem and "HIVE_PG_BINDIR" in problem, "says what to install and set"


def test_pg_restore_must_read_the_archives_format() -> None:
    assert restore_tool_problem(tool("pg_restore", 16), tool("pg_dump", 16), "the archive of agent") is None
    problem = restore_tool_problem(tool("pg_restore", 15), tool("pg_dump", 16), "the archive of agent")
    assert problem is not None and "written by pg_dump (PostgreSQL) 16.2" in problem, "names the writer"


def test_a_clean_target_takes_the_archive() -> None:
    assert target_problems("agent", TABLES, [CITEXT], 16, target(), replace=False) == [], "nothing to refuse"


def test_tables_of_the_same_names_need_replace() -> None:
    busy = target(tables=frozenset({("hive", "component_versions"), ("ai", "other")}))
    (problem,) = target_problems("the archive of agent", TABLES, [CITEXT], 16, busy, replace=False)
    assert "already holds 1 table(s) of the same names as the archive of agent: hive.component_versions" in problem
    assert "--replace" in problem, "says how to go on"
    assert target_problems("agent", TABLES, [CITEXT], 16, busy, replace=True) == [], "--replace accepts them"


def test_the_extension_must_exist_in_the_schema_the_dump_names() -> None:
    (missing,) = target_problems("agent", TABLES, [CITEXT], 16, target(extensions=()), replace=True)
    assert "uses the extension citext (in schema public)" in missing and "hive:extensions" in missing, (
        "a missing extension is the stack's to create: the role may not (pgvector is untrusted)"
    )
    elsewhere = target(extensions=(Extension("citext", "extensions", "1.6"),))
    (moved,) = target_problems("agent", TABLES, [CITEXT], 16, elsewhere, replace=True)
    assert "as public.<type>" in moved and "in schema extensions, where those names do not resolve" in moved


def test_no_restore_into_an_older_major() -> None:
    (problem,) = target_problems("agent", TABLES, [], 17, target(), replace=False)
    assert "comes from PostgreSQL 17 but hive@localhost:5532/hive_agent runs 16" in problem


def test_two_archives_into_one_database_must_not_share_tables() -> None:
    other = (TableCount("hive", "component_versions", 10), TableCount("genie", "notes", 3))
    (problem,) = overlap_problems([("legacy workspace", "hive", TABLES), ("legacy genie", "hive", other)])
    assert "legacy workspace and legacy genie both go into database hive and both hold hive.component_versions" in (
        problem
    )
    assert overlap_problems([("a", "hive", TABLES), ("b", "hive_genie", other)]) == [], "apart: fine"


def test_count_differences_name_each_table() -> None:
    actual = {("hive", "component_versions"): 299, ("ai", "agno_memories"): None}
    assert count_differences(TABLES, actual) == [
        "hive.component_versions: 300 in the manifest, 299 in the database",
        "ai.agno_memories: 75 in the manifest, missing in the database",
    ]
    assert count_differences(TABLES, {t.key: t.rows for t in TABLES}) == [], "equal: nothing"
