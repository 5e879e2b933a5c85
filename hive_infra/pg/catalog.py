"""What a live database holds, read through psycopg (the ``psycopg[binary]``
wheel carries its own libpq: no PostgreSQL client is needed on the machine).

Every count is an exact ``count(*)`` of a schema-qualified table. Inside
``snapshot`` the counts are those of the snapshot that pg_dump is then told to
dump (``pg_dump --snapshot``), so a manifest's counts are the archive's, even
while an application writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from hive_infra.core.errors import CommandError
from hive_infra.pg.endpoint import Endpoint
from hive_infra.pg.manifest import DatabaseFacts, Extension, TableCount, ident
from hive_infra.pg.versions import server_major

Connection = psycopg.Connection[Any]

#: Ordinary and partitioned tables outside the system schemas, except the
#: tables of extensions (pg_dump dumps neither their definition nor their rows).
_TABLES = """
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""
_SCHEMAS = """
SELECT oid::bigint, nspname FROM pg_catalog.pg_namespace
WHERE nspname <> 'information_schema' AND nspname !~ '^pg_'
"""
#: plpgsql is in every database and never in a dump.
_EXTENSIONS = """
SELECT e.extname, n.nspname, e.extversion
FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql' ORDER BY 1
"""


def _reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


@contextmanager
def connect(endpoint: Endpoint) -> Iterator[Connection]:
    """An autocommit session (read-only when the endpoint says so)."""
    try:
        conn = psycopg.connect(**endpoint.connect_kwargs(), autocommit=True)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        raise CommandError(f"cannot connect to {endpoint.describe()}: {_reason(exc)}") from None
    try:
        with conn:
            yield conn
    except psycopg.Error as exc:
        raise CommandError(f"{endpoint.describe()}: {_reason(exc)}") from None


def server_version(conn: Connection) -> tuple[str, int]:
    """``("15.18 (Debian ...)", 15)``."""
    row = conn.execute(
        "SELECT current_setting('server_version'), current_setting('server_version_num')::int"
    ).fetchone()
    assert row is not None
    return str(row[0]), server_major(int(row[1]))


def table_names(conn: Connection) -> list[tuple[str, str]]:
    return [(str(s), str(t)) for s, t in conn.execute(_TABLES).fetchall()]


def count_rows(conn: Connection, tables: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int | None]:
    """Exact row counts; None for a table that does not exist."""
    present = set(table_names(conn))
    counts: dict[tuple[str, str], int | None] = {}
    for schema, table in tables:
        if (schema, table) not in present:
            counts[(schema, table)] = None
            continue
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        try:
            row = conn.execute(query).fetchone()
        except psycopg.errors.InsufficientPrivilege:
            raise CommandError(
                f"{ident(schema)}.{ident(table)}: the login may not read it (permission denied); "
                "it cannot be counted or dumped by this user"
            ) from None
        counts[(schema, table)] = int(row[0]) if row is not None else 0
    return counts


def schema_names(conn: Connection) -> set[str]:
    return {str(name) for _, name in conn.execute(_SCHEMAS).fetchall()}


def extensions(conn: Connection) -> tuple[Extension, ...]:
    return tuple(Extension(str(n), str(s), str(v)) for n, s, v in conn.execute(_EXTENSIONS).fetchall())


def read_facts(conn: Connection) -> DatabaseFacts:
    """Tables with exact counts, extensions and schemas, as of the session's (or snapshot's) view."""
    version, major = server_version(conn)
    names = table_names(conn)
    counts = count_rows(conn, names)
    tables = tuple(TableCount(s, t, counts[(s, t)] or 0) for s, t in names)
    schemas = {int(oid): str(name) for oid, name in conn.execute(_SCHEMAS).fetchall()}
    return DatabaseFacts(version, major, tables, extensions(conn), schemas)


@contextmanager
def snapshot(conn: Connection) -> Iterator[str]:
    """A read-only repeatable-read transaction whose snapshot is exported:
    yields its id for ``pg_dump --snapshot``; queries on ``conn`` inside see
    exactly what pg_dump dumps. Ends (and frees the snapshot) on exit."""
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    with conn.transaction():
        row = conn.execute("SELECT pg_catalog.pg_export_snapshot()").fetchone()
        assert row is not None
        yield str(row[0])
