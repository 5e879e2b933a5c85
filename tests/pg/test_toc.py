"""The restore list: which entries of ``pg_restore --list`` a restore as the
application role leaves out, and why (see ``hive_infra.pg.toc``)."""

from __future__ import annotations

from hive_infra.pg.toc import entries, restore_list

#: ``pg_restore --list`` of a legacy database dumped by its superuser (PostgreSQL 15), plus a
#: schema and a table whose names hold spaces.
TOC = """;
; Archive created at 2026-11-26 11:43:21 UTC
;     dbname: hive_agent
;
; Selected TOC Entries:
;
10; 2615 16493 SCHEMA - agent Hq3xTu8kLm2Np5Rs
8; 2615 16491 SCHEMA - agno Hq3xTu8kLm2Np5Rs
11; 2615 16494 SCHEMA - my schema Hq3xTu8kLm2Np5Rs
7; 2615 16490 SCHEMA - hive Hq3xTu8kLm2Np5Rs
2; 3079 16385 EXTENSION - citext 
3472; 0 0 COMMENT - EXTENSION citext 
224; 1259 16519 TABLE agent plain Hq3xTu8kLm2Np5Rs
220; 1259 16495 TABLE hive component_versions Hq3xTu8kLm2Np5Rs
225; 1259 16522 TABLE public Odd Name Hq3xTu8kLm2Np5Rs
226; 1259 16523 TABLE my schema EXTENSION - x Hq3xTu8kLm2Np5Rs
3460; 0 16495 TABLE DATA hive component_versions Hq3xTu8kLm2Np5Rs
3312; 2606 16502 CONSTRAINT hive component_versions component_versions_pkey Hq3xTu8kLm2Np5Rs
"""  # noqa: W291 - pg_restore ends an entry without owner with a space
SCHEMAS = {2200: "public", 16490: "hive", 16491: "agno", 16493: "agent", 16494: "my schema"}


def kept(existing: set[str]) -> list[str]:
    return entries(restore_list(TOC, dump_schemas=SCHEMAS, existing_schemas=existing, extensions=["citext"]).text)


def test_extension_entries_never_run() -> None:
    lines = kept(set())
    assert not any("EXTENSION - citext" in line for line in lines), (
        "CREATE EXTENSION (DROP EXTENSION with --clean) and COMMENT ON EXTENSION need the extension's owner"
    )
    assert any("TABLE my schema EXTENSION - x" in line for line in lines), (
        "a table whose name merely contains the words stays: only the entry's own kind counts"
    )


def test_schemas_the_target_has_are_not_created_again() -> None:
    lines = kept({"public", "agent", "my schema"})
    schemas = [line.split(" SCHEMA - ", 1)[1] for line in lines if " SCHEMA - " in line]
    assert schemas == ["agno Hq3xTu8kLm2Np5Rs", "hive Hq3xTu8kLm2Np5Rs"], (
        "CREATE SCHEMA agent would fail on the stack's own schema; new ones (agno, hive) are created"
    )
    assert len(lines) == len(entries(TOC)) - 4, "only the two extension entries and two schemas are left out"
    assert any("TABLE agent plain" in line for line in lines), "the tables of an existing schema are restored into it"


def test_schema_entries_are_recognised_by_oid_whatever_their_names() -> None:
    everything = kept({"my schema", "agno", "hive", "agent"})
    assert not any(" SCHEMA - " in line for line in everything), "a name with a space is matched by its oid"
    unknown = restore_list(TOC, dump_schemas={}, existing_schemas={"agent"}, extensions=["citext"])
    assert sum(" SCHEMA - " in line for line in entries(unknown.text)) == 4, (
        "without the manifest's oid map no schema entry is guessed at"
    )


def test_the_reasons_are_named() -> None:
    result = restore_list(TOC, dump_schemas=SCHEMAS, existing_schemas={"agent"}, extensions=["citext"])
    assert result.skipped == (
        "CREATE SCHEMA agent (the target has it)",
        "CREATE EXTENSION citext (the stack made it)",
        "COMMENT ON EXTENSION citext",
    ), "what is left out, for the user's log"
    assert result.text.startswith(";\n; Archive created"), "comment lines stay (pg_restore ignores them)"
