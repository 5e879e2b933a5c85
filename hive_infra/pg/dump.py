"""``db dump``, and the dumping that ``migrate`` shares with it.

Each database is dumped inside one exported snapshot: a read-only
repeatable-read session exports it, counts every table in it, and pg_dump
dumps exactly that snapshot (``--snapshot``), so the manifest's counts are the
archive's even while an application writes. All checks (connection, server
and pg_dump versions) run for every database before the folder is created; a
failure after that removes the folder, so no half-written dump is left behind.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from hive_infra.core.errors import CommandError, ExitCode
from hive_infra.pg import catalog
from hive_infra.pg.checks import dump_tool_problem, names
from hive_infra.pg.endpoint import Endpoint
from hive_infra.pg.manifest import (
    DatabaseFacts,
    DumpEntry,
    Manifest,
    iso,
    new_file,
    new_folder,
    sha256_of,
    utc_now,
    write_manifest,
)
from hive_infra.pg.stack_view import read_stack
from hive_infra.pg.tools import PgTools
from hive_infra.pg.versions import ToolVersion

Say = Callable[[str], None]
DEFAULT_OUT = "backups"


@dataclass(frozen=True)
class Source:
    """One database to dump, for ``modes``, with the tools that dump it."""

    modes: tuple[str, ...]
    endpoint: Endpoint = field(repr=False)
    tools: PgTools = field(repr=False)

    @property
    def label(self) -> str:
        return f"{'+'.join(self.modes)} ({self.endpoint.database})"


@dataclass(frozen=True)
class Prepared:
    source: Source
    server_version: str
    server_major: int
    tool: ToolVersion


def prepare(source: Source) -> Prepared:
    """Connect, and check that the pg_dump to be used can dump this server."""
    with catalog.connect(source.endpoint) as conn:
        version, major = catalog.server_version(conn)
    tool = source.tools.version("pg_dump")
    problem = dump_tool_problem(tool, major, f"{source.endpoint.address} ({source.label})")
    if problem:
        raise CommandError(problem)
    return Prepared(source, version, major, tool)


def file_name(modes: Sequence[str], database: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{'+'.join(modes)}-{database}") + ".dump"


def changed_tables(before: DatabaseFacts, after: DatabaseFacts) -> list[str]:
    old, new = before.counts(), after.counts()
    keys = sorted(set(old) | set(new))
    by_key = {t.key: t for t in (*before.tables, *after.tables)}
    return [
        f"{by_key[k].name} ({old.get(k, 'absent')} -> {new.get(k, 'absent')})" for k in keys if old.get(k) != new.get(k)
    ]


def dump_one(prepared: Prepared, folder: Path, say: Say, *, require_unchanged: bool) -> DumpEntry:
    source = prepared.source
    name = file_name(source.modes, source.endpoint.database)
    path = folder / name
    with catalog.connect(source.endpoint) as conn:
        with catalog.snapshot(conn) as snapshot:
            facts = catalog.read_facts(conn)
            with new_file(path) as out:
                source.tools.dump(source.endpoint, out, snapshot)
        if require_unchanged:
            after = catalog.read_facts(conn)
            if after.fingerprint() != facts.fingerprint():
                changed = names(changed_tables(facts, after))
                raise CommandError(
                    f"{source.endpoint.describe()} changed while it was dumped ({changed}): "
                    "something still writes to it. Stop the legacy API containers (docker stop hive-agents "
                    "hive-agent-dev-server hive-genie-server), keep its PostgreSQL running, and run again",
                    ExitCode.FAILED,
                )
    size = path.stat().st_size
    digest = sha256_of(path)
    say(
        f"  {source.label}: {len(facts.tables)} tables, {facts.rows} rows -> {path} "
        f"({size} bytes, sha256 {digest[:16]}...)"
    )
    if require_unchanged:
        say(f"  {source.label}: unchanged by the dump (sha256 of its per-table counts {facts.fingerprint()[:16]}...)")
    return DumpEntry(
        modes=source.modes,
        database=source.endpoint.database,
        server=source.endpoint.address,
        facts=facts,
        file=name,
        sha256=digest,
        size=size,
        tool=prepared.tool,
        dumped_at=iso(utc_now()),
    )


def dump_sources(
    sources: Sequence[Source],
    out: Path,
    *,
    label: str,
    manifest_source: str,
    isolation: str | None,
    say: Say,
    require_unchanged: bool = False,
) -> tuple[Path, Manifest]:
    """Check every source, then dump each into a new folder under ``out``;
    the manifest last. On any failure the new folder is removed."""
    prepared = [prepare(s) for s in sources]
    for p in prepared:
        say(f"  {p.source.label}: PostgreSQL {p.server_version} at {p.source.endpoint.address}, {p.tool.describe()}")
    started = utc_now()
    folder = new_folder(out, label, started)
    try:
        entries = tuple(dump_one(p, folder, say, require_unchanged=require_unchanged) for p in prepared)
        manifest = Manifest(manifest_source, iso(started), entries, isolation)
        write_manifest(folder, manifest)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, manifest


@dataclass(frozen=True)
class DumpOptions:
    stack: str | None = None
    modes: tuple[str, ...] = ()
    out: str = DEFAULT_OUT
    tools: str = "auto"


def run_dump(options: DumpOptions, stdout: TextIO, say: Say) -> int:
    """``db dump``: the folder's path on stdout, everything else through ``say``."""
    view = read_stack(options.stack)
    modes = view.select(options.modes)
    tools = view.tools(options.tools)
    say(f"db dump: {view.label}, {view.server}")
    sources = [Source(ms, view.endpoints[ms[0]], tools) for _, ms in view.groups(modes)]
    label = f"hive-{view.stack}" if view.stack else "hive"
    folder, manifest = dump_sources(
        sources, Path(options.out), label=label, manifest_source=view.label, isolation=view.isolation, say=say
    )
    rows = sum(e.facts.rows for e in manifest.dumps)
    say(f"db dump: {len(manifest.dumps)} database(s), {rows} rows; manifest written last: {folder / 'manifest.json'}")
    print(folder, file=stdout)
    return ExitCode.OK
