"""Shared by the live tests of ``db dump|restore`` and ``migrate``: the stack
materialised through the provider double, the fake ``pulumi`` and ``docker``
around it, a command runner, and a content fingerprint of a database."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from hive_infra.__main__ import main
from hive_infra.commands.contract import Context
from hive_infra.machine.stack_reader import PULUMI_ENV
from hive_infra.pg.tools import BINDIR_ENV, DOCKER_ENV
from tests.support import dbchecks
from tests.support.docker_fakes import FakeDockerCli, make_fake_docker_cli
from tests.support.fake_pulumi import make_fake_pulumi
from tests.support.pg_double import PgDouble, run_main_program
from tests.support.pgserver import PgServer

STACK_CONTAINER = "hive-postgres-shared"
MODE_SUFFIX = {"workspace": "", "agent": "_agent", "genie": "_genie"}

#: What a database holds: ``{"schema.table": (rows, md5 of every row as text, in order)}``.
Contents = dict[str, tuple[int, str]]


def contents(url: str) -> Contents:
    """Every user table's row count and an md5 of all its rows: equal on two
    databases only if every row is."""
    with psycopg.connect(dbchecks.libpq_url(url), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ).fetchall()
        out: Contents = {}
        query = sql.SQL("SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {}.{} t")
        for schema, table in tables:
            row = conn.execute(query.format(sql.Identifier(schema), sql.Identifier(table))).fetchone()
            assert row is not None
            out[f"{schema}.{table}"] = (int(row[0]), str(row[1]))
        return out


@dataclass
class Stack:
    """A stack's exports, secrets revealed, as ``pulumi stack output --show-secrets`` prints them."""

    exports: dict[str, Any]

    @property
    def urls(self) -> dict[str, str]:
        """``{mode: SQLAlchemy URL}``: as the application connects."""
        return dict(self.exports["databaseUrls"])

    def contents(self) -> dict[str, Contents]:
        return {mode: contents(url) for mode, url in self.urls.items()}

    def password(self) -> str:
        text = str(self.exports["envFiles"]["workspace"]["content"])
        return text.split("POSTGRES_PASSWORD=", 1)[1].split()[0]


def materialise(pg_server: PgServer, base: str, env_dir: Path, **config: str) -> Stack:
    """``__main__.py`` through the provider double on the session's server, with
    its own database and role names (``base``) apart from other modules'."""
    full = {
        "hive:dbPort": str(pg_server.port),
        "hive:extensions": json.dumps(["citext"]),  # no pgvector here; citext follows the same rules
        "hive:envDir": str(env_dir),
        "hive:adminPassword": "container-admin-password",
        "hive:database": base,
        "hive:dbUser": base,
        **{f"hive:{k}": v for k, v in config.items()},
    }
    return Stack(run_main_program(PgDouble(pg_server), full).exports)


@contextmanager
def fake_cli(folder: Path, stack: Stack, containers: Mapping[str, PgServer]) -> Iterator[FakeDockerCli]:
    """A fake ``pulumi`` printing ``stack``'s exports and a fake ``docker`` CLI whose
    ``exec`` reaches ``containers[name]``, both named through their environment variables."""
    pulumi = make_fake_pulumi(folder, stack.exports)
    docker = make_fake_docker_cli(folder, {name: (s.host, s.port, s.bindir) for name, s in containers.items()})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PULUMI_ENV, str(pulumi.path))
        patch.setenv(DOCKER_ENV, str(docker.path))
        patch.delenv(BINDIR_ENV, raising=False)
        yield docker


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(*argv: str, docker: Any = None) -> Result:
    """``python -m hive_infra ARGV`` in this process; ``docker`` answers Docker SDK calls."""
    out, err = io.StringIO(), io.StringIO()
    context = Context(out, err) if docker is None else Context(out, err, docker_factory=lambda: docker)
    code = main(list(argv), context)
    return Result(code, out.getvalue(), err.getvalue())


def folders(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


def old_client(folder: Path, major: int) -> Path:
    """A bin folder whose pg_dump and pg_restore answer ``--version`` with ``major``."""
    folder.mkdir(parents=True, exist_ok=True)
    for program in ("pg_dump", "pg_restore"):
        script = folder / program
        script.write_text(f"#!/bin/sh\necho '{program} (PostgreSQL) {major}.11'\n")
        script.chmod(0o755)
    return folder
