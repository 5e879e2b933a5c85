"""Every reason to refuse a dump or a restore, decided before anything is
written. Pure: plain facts in, sentences out (each naming what and why)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from hive_infra.pg.manifest import Extension, TableCount, ident
from hive_infra.pg.versions import ToolVersion

#: How many table names a message lists before "and N more".
SHOW_AT_MOST = 8


def names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:SHOW_AT_MOST])
    return shown + (f" and {len(items) - SHOW_AT_MOST} more" if len(items) > SHOW_AT_MOST else "")


def dump_tool_problem(tool: ToolVersion, server_major: int, server: str) -> str | None:
    """pg_dump must be at least the server's major (an older one refuses, or misses new catalog features)."""
    if tool.major >= server_major:
        return None
    return (
        f"{tool.describe()} is major {tool.major} but {server} runs PostgreSQL {server_major}: pg_dump must be at "
        f"least the server's major. Install postgresql-client-{server_major} and set HIVE_PG_BINDIR to its bin "
        "folder, or run the server's own pg_dump with --tools docker when it is a container"
    )


def restore_tool_problem(tool: ToolVersion, dumped_by: ToolVersion, label: str) -> str | None:
    """pg_restore reads archives of its own major and older only."""
    if tool.major >= dumped_by.major:
        return None
    return (
        f"{tool.describe()} is major {tool.major} but the archive of {label} was written by {dumped_by.text}: "
        f"pg_restore must be at least {dumped_by.major}; install that client and use --tools local with "
        "HIVE_PG_BINDIR pointing at it"
    )


@dataclass(frozen=True)
class TargetFacts:
    """A target database as it is now."""

    #: ``user@host:port/database``.
    describe: str
    database: str
    server_major: int
    tables: frozenset[tuple[str, str]]
    schemas: frozenset[str]
    extensions: tuple[Extension, ...]


def target_problems(
    label: str,
    tables: Iterable[TableCount],
    extensions: Iterable[Extension],
    source_major: int,
    target: TargetFacts,
    *,
    replace: bool,
) -> list[str]:
    """Why ``label``'s archive may not be restored into ``target``."""
    problems = []
    if target.server_major < source_major:
        problems.append(
            f"{label} comes from PostgreSQL {source_major} but {target.describe} runs {target.server_major}: "
            "PostgreSQL does not restore into an older major; use a newer postgresImage"
        )
    have = {x.name: x for x in target.extensions}
    for ext in extensions:
        found = have.get(ext.name)
        if found is None:
            problems.append(
                f"{label} uses the extension {ext.name} (in schema {ext.schema}) but {target.describe} does not "
                f"have it, and the application's role may not create it: add it to hive:extensions "
                f"(pulumi config set --path 'hive:extensions[N]' {ext.name}) and run pulumi up"
            )
        elif found.schema != ext.schema:
            problems.append(
                f"{label}'s tables name the extension's types as {ident(ext.schema)}.<type> ({ext.name} lived in "
                f"{ext.schema}) but {target.describe} has {ext.name} in schema {found.schema}, where those names "
                f"do not resolve: restore into a stack with hive:isolation=database (extensions in public), or "
                f"move it first (ALTER EXTENSION {ext.name} SET SCHEMA {ext.schema}, as the admin)"
            )
    clashing = sorted(t.name for t in tables if t.key in target.tables)
    if clashing and not replace:
        problems.append(
            f"{target.describe} already holds {len(clashing)} table(s) of the same names as {label}: "
            f"{names(clashing)}; nothing was restored. Use --replace to drop and restore them "
            "(their current rows are lost; take a db dump first)"
        )
    return problems


def overlap_problems(assignments: Sequence[tuple[str, str, Collection[TableCount]]]) -> list[str]:
    """Two archives bound for one database must not hold tables of the same
    names (one would overwrite the other): ``(label, target database, tables)``."""
    problems = []
    for i, (label, database, tables) in enumerate(assignments):
        for other_label, other_database, other_tables in assignments[:i]:
            if database != other_database:
                continue
            keys = {t.key for t in other_tables}
            both = sorted(t.name for t in tables if t.key in keys)
            if both:
                problems.append(
                    f"{other_label} and {label} both go into database {database} and both hold {names(both)}: "
                    "restore one of them (--mode), or use hive:isolation=database, a database per mode"
                )
    return problems


def count_differences(expected: Iterable[TableCount], actual: Mapping[tuple[str, str], int | None]) -> list[str]:
    """``table: manifest N, database M`` for every table whose count differs (or is missing)."""
    out = []
    for table in expected:
        got = actual.get(table.key)
        if got != table.rows:
            out.append(
                f"{table.name}: {table.rows} in the manifest, {'missing' if got is None else got} in the database"
            )
    return out
