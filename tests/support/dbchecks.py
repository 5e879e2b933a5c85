"""What a mode's database URL must allow, as checks over a ``{mode: url}`` dict.

Every check takes SQLAlchemy URLs (``postgresql+psycopg://...``) as the .env
files carry them, so the same checks run against resources made by hand
(test_pg_double.py) and, later, against what ``__main__.py`` creates.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Mapping
from urllib.parse import quote

import psycopg
import sqlalchemy as sa

EXTENSIONS_SCHEMA = "extensions"


def mode_url(
    user: str,
    password: str,
    host: str,
    port: int,
    database: str,
    schema: str | None,
    *,
    driver: str = "postgresql+psycopg",
) -> str:
    """The URL of a mode: ``?options=-csearch_path=<schema>,extensions`` unless it uses public."""
    url = f"{driver}://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(database, safe='')}"
    if schema and schema != "public":
        url += "?options=" + quote(f"-csearch_path={schema},{EXTENSIONS_SCHEMA}", safe="")
    return url


def libpq_url(url: str) -> str:
    """The same URL for libpq (psycopg.connect, psql): without SQLAlchemy's ``+driver``."""
    scheme, rest = url.split("://", 1)
    return scheme.split("+", 1)[0] + "://" + rest


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def scalar(url: str, sql: str, **params: object) -> object:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            for sql in statements:
                conn.execute(sa.text(sql))
    finally:
        engine.dispose()


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# ----------------------------------------------------------------------------
def assert_not_superuser(urls: Mapping[str, str]) -> None:
    for mode, url in urls.items():
        assert scalar(url, "select rolsuper from pg_roles where rolname = current_user") is False, mode


def assert_current_schema(urls: Mapping[str, str], schemas: Mapping[str, str]) -> None:
    for mode, url in urls.items():
        assert scalar(url, "select current_schema()") == schemas[mode], mode


def assert_unqualified_create_lands_in_own_schema(urls: Mapping[str, str], schemas: Mapping[str, str]) -> None:
    """An unqualified CREATE TABLE, with a column of an extension type (citext,
    living in ``extensions``), lands in the mode's schema."""
    for mode, url in urls.items():
        table = unique("t")
        execute(url, f"create table {table} (id serial primary key, email citext not null)")
        where = scalar(url, "select table_schema from information_schema.tables where table_name = :t", t=table)
        assert where == schemas[mode], (mode, where)
        execute(url, f"insert into {table} (email) values ('A@Example.org')")
        assert scalar(url, f"select count(*) from {table} where email = 'a@example.ORG'") == 1, mode
        execute(url, f"drop table {table}")


def assert_schemas_do_not_leak_unqualified(urls: Mapping[str, str]) -> None:
    """A table made by one mode is not found unqualified by another."""
    modes = list(urls)
    for mode in modes:
        table = unique(f"only_{mode}")
        execute(urls[mode], f"create table {table} (x int)")
        try:
            for other in modes:
                if other == mode:
                    continue
                try:
                    scalar(urls[other], f"select count(*) from {table}")
                except sa.exc.ProgrammingError as exc:
                    assert isinstance(exc.orig, psycopg.errors.UndefinedTable), exc
                else:
                    raise AssertionError(f"{other} sees {mode}'s table {table} unqualified")
        finally:
            execute(urls[mode], f"drop table {table}")


def assert_shared_role_reads_across_schemas(urls: Mapping[str, str], schemas: Mapping[str, str]) -> None:
    """One shared role: schemas are namespaces, not a security boundary. Each
    mode's URL reads (and writes) another mode's table when it qualifies it."""
    for writer, url in urls.items():
        table = f"{schemas[writer]}.{unique('shared')}"
        execute(url, f"create table {table} (x int)", f"insert into {table} values (42)")
        try:
            for reader, other in urls.items():
                assert scalar(other, f"select x from {table}") == 42, (reader, table)
        finally:
            execute(url, f"drop table {table}")


def _qualified_table_per_mode(urls: Mapping[str, str]) -> dict[str, str]:
    """Each mode creates ``ai.<table>`` as Agno does (its own schema name, not
    the mode's) and writes its name into it; returns {mode: table}."""
    tables = {}
    for mode, url in urls.items():
        table = f"ai.{unique('agno_memories')}"
        execute(url, "create schema if not exists ai", f"create table {table} (owner text)")
        execute(url, f"insert into {table} values ('{mode}')")
        tables[mode] = table
    return tables


def assert_qualified_tables_stay_in_their_mode(urls: Mapping[str, str]) -> None:
    """A database per mode: another mode cannot find a schema-qualified table."""
    tables = _qualified_table_per_mode(urls)
    for reader, url in urls.items():
        for writer, table in tables.items():
            if writer == reader:
                assert scalar(url, f"select owner from {table}") == writer, (reader, table)
                continue
            try:
                scalar(url, f"select count(*) from {table}")
            except sa.exc.ProgrammingError as exc:
                assert isinstance(exc.orig, psycopg.errors.UndefinedTable), exc
            else:
                raise AssertionError(f"{reader} reads {writer}'s {table}: the modes' databases are not apart")


def assert_qualified_tables_are_shared(urls: Mapping[str, str]) -> None:
    """One database: every mode reads every other mode's schema-qualified rows."""
    tables = _qualified_table_per_mode(urls)
    for reader, url in urls.items():
        for writer, table in tables.items():
            assert scalar(url, f"select owner from {table}") == writer, f"{reader} shares {writer}'s {table}"


def assert_libpq_and_psql_accept(urls: Mapping[str, str], schemas: Mapping[str, str], psql: str | None = None) -> None:
    """The URL without ``+psycopg`` works with psycopg.connect and the psql CLI."""
    psql = psql or shutil.which("psql")
    for mode, url in urls.items():
        plain = libpq_url(url)
        with psycopg.connect(plain) as conn:
            assert conn.execute("select current_schema()").fetchone()[0] == schemas[mode], mode
        if psql:
            out = subprocess.run(
                [psql, plain, "-X", "-A", "-t", "-c", "select current_schema()"],
                capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
            )  # fmt: skip
            assert out.returncode == 0, out.stderr
            assert out.stdout.strip() == schemas[mode], (mode, out.stdout)
