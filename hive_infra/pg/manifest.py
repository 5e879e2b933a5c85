"""A dump folder and its ``manifest.json``.

The folder is new (0700) and named after its source and the UTC time; every
file in it is created 0600 and never overwritten. ``manifest.json`` is written
last, through a temporary file and a rename, so a folder without one is an
incomplete dump and ``restore`` refuses it. The manifest holds no password.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from hive_infra.core.errors import CommandError
from hive_infra.pg.versions import ToolVersion

MANIFEST = "manifest.json"
FORMAT = "hive-infra-dump/1"
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_CHUNK = 1 << 20


def ident(name: str) -> str:
    """``name`` as SQL writes it: bare when plain, else double-quoted."""
    return name if _PLAIN_NAME.match(name) else '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, order=True)
class TableCount:
    schema: str
    table: str
    rows: int = field(compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.table)

    @property
    def name(self) -> str:
        """Schema-qualified, quoted where needed: ``hive.component_versions``."""
        return f"{ident(self.schema)}.{ident(self.table)}"


@dataclass(frozen=True)
class Extension:
    name: str
    schema: str
    version: str


@dataclass(frozen=True)
class DatabaseFacts:
    """What one database held, read in one snapshot."""

    server_version: str
    server_major: int
    tables: tuple[TableCount, ...]
    extensions: tuple[Extension, ...] = ()
    #: Object oid -> name of every schema in the source, to recognise the dump's schema entries.
    schemas: Mapping[int, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def counts(self) -> dict[tuple[str, str], int]:
        return {t.key: t.rows for t in self.tables}

    def fingerprint(self) -> str:
        """sha256 of every table's name and row count: equal before and after a
        dump when nothing wrote to the database in between."""
        return fingerprint(self.tables)


def fingerprint(tables: Iterable[TableCount]) -> str:
    text = "".join(f"{t.schema}\t{t.table}\t{t.rows}\n" for t in sorted(tables))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class DumpEntry:
    """One archive of the folder: which modes' database it holds, and what was in it."""

    modes: tuple[str, ...]
    database: str
    #: ``host:port`` of the server it was dumped from.
    server: str
    facts: DatabaseFacts
    file: str
    sha256: str
    size: int
    tool: ToolVersion
    dumped_at: str

    def label(self) -> str:
        return f"{'+'.join(self.modes)} ({self.database})"


@dataclass(frozen=True)
class Manifest:
    #: ``stack dev`` or ``legacy install``.
    source: str
    created: str
    dumps: tuple[DumpEntry, ...]
    #: The stack's isolation at dump time (None for a legacy install).
    isolation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "source": self.source,
            "created": self.created,
            "isolation": self.isolation,
            "dumps": [_entry_json(e) for e in self.dumps],
        }


def _entry_json(e: DumpEntry) -> dict[str, Any]:
    return {
        "modes": list(e.modes),
        "database": e.database,
        "server": e.server,
        "server_version": e.facts.server_version,
        "server_major": e.facts.server_major,
        "file": e.file,
        "sha256": e.sha256,
        "bytes": e.size,
        "dumped_at": e.dumped_at,
        "tool": {"program": e.tool.program, "version": e.tool.text, "major": e.tool.major, "where": e.tool.where},
        "extensions": [{"name": x.name, "schema": x.schema, "version": x.version} for x in e.facts.extensions],
        "schemas": {str(oid): name for oid, name in sorted(e.facts.schemas.items())},
        "rows": e.facts.rows,
        "tables": [{"schema": t.schema, "table": t.table, "rows": t.rows} for t in e.facts.tables],
    }


def manifest_from_json(data: Any, where: str) -> Manifest:
    """Parse a manifest; a malformed one is refused with ``where`` named."""
    try:
        if data.get("format") != FORMAT:
            raise CommandError(
                f"{where}: not a hive-infra dump manifest (format {data.get('format')!r}, expected {FORMAT})"
            )
        dumps = tuple(_entry_from_json(e) for e in data["dumps"])
        return Manifest(str(data["source"]), str(data["created"]), dumps, data.get("isolation"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CommandError(
            f"{where}: malformed manifest ({type(exc).__name__}: {exc}); it was not written by db dump"
        ) from None


def _entry_from_json(e: Mapping[str, Any]) -> DumpEntry:
    tool = e["tool"]
    facts = DatabaseFacts(
        server_version=str(e["server_version"]),
        server_major=int(e["server_major"]),
        tables=tuple(TableCount(str(t["schema"]), str(t["table"]), int(t["rows"])) for t in e["tables"]),
        extensions=tuple(Extension(str(x["name"]), str(x["schema"]), str(x["version"])) for x in e["extensions"]),
        schemas={int(oid): str(name) for oid, name in e["schemas"].items()},
    )
    file = str(e["file"])
    if "/" in file or file in ("", ".", "..") or file == MANIFEST:
        raise ValueError(f"file {file!r} is not a plain file name")
    return DumpEntry(
        modes=tuple(str(m) for m in e["modes"]),
        database=str(e["database"]),
        server=str(e["server"]),
        facts=facts,
        file=file,
        sha256=str(e["sha256"]),
        size=int(e["bytes"]),
        tool=ToolVersion(str(tool["program"]), str(tool["version"]), int(tool["major"]), str(tool["where"])),
        dumped_at=str(e["dumped_at"]),
    )


# --- the folder ------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_folder(parent: Path, label: str, moment: datetime) -> Path:
    """A new folder ``<parent>/<label>-<UTC time>`` (0700); never an existing one."""
    parent.mkdir(parents=True, exist_ok=True)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 100):
        folder = parent / (f"{label}-{stamp}" if attempt == 1 else f"{label}-{stamp}-{attempt}")
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # whatever the umask
        return folder
    raise CommandError(f"{parent}: could not create a new dump folder for {label}-{stamp}")


@contextlib.contextmanager
def new_file(path: Path) -> Iterator[IO[bytes]]:
    """A new file, 0600 from its creation; refuses to overwrite or follow a symlink."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        yield out
        out.flush()
        os.fsync(out.fileno())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` last: a temp file, fsync, rename, fsync the folder."""
    tmp = folder / f".{MANIFEST}.tmp"
    with new_file(tmp) as out:
        out.write((json.dumps(manifest.to_json(), indent=2) + "\n").encode())
    target = folder / MANIFEST
    os.replace(tmp, target)
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target


def read_manifest(folder: Path) -> Manifest:
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such dump folder")
    path = folder / MANIFEST
    if not path.is_file():
        raise CommandError(
            f"{folder}: has no {MANIFEST}, so it is an incomplete dump (the manifest is written last); "
            "take the dump again"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path}: cannot be read as JSON ({type(exc).__name__})") from None
    return manifest_from_json(data, str(path))


def checksum_problems(folder: Path, dumps: Sequence[DumpEntry]) -> list[str]:
    """Every archive that is missing, or whose size or sha256 differs from the manifest."""
    problems = []
    for entry in dumps:
        path = folder / entry.file
        if not path.is_file():
            problems.append(f"{path}: missing (the manifest lists it for {entry.label()})")
        elif path.stat().st_size != entry.size or sha256_of(path) != entry.sha256:
            problems.append(
                f"{path}: its sha256 differs from the manifest's: the archive of {entry.label()} was changed "
                "or damaged after the dump; nothing was restored"
            )
    return problems
