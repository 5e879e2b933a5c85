"""The dump folder and its manifest (``hive_infra.pg.manifest``)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hive_infra.core.errors import CommandError
from hive_infra.pg.manifest import (
    MANIFEST,
    DatabaseFacts,
    DumpEntry,
    Extension,
    Manifest,
    TableCount,
    checksum_problems,
    ident,
    manifest_from_json,
    new_file,
    new_folder,
    read_manifest,
    sha256_of,
    write_manifest,
)
from hive_infra.pg.versions import ToolVersion

MOMENT = datetime(2026, 11, 26, 11, 43, 21, tzinfo=UTC)


def entry(file: str = "workspace-hive.dump", digest: str = "0" * 64, size: int = 0) -> DumpEntry:
    facts = DatabaseFacts(
        "16.4 (Debian 16.4-1.pgdg120+2)",
        16,
        (TableCount("hive", "component_versions", 300), TableCount("public", "Odd Name", 2)),
        (Extension("vector", "public", "0.8.0"),),
        {2200: "public", 16490: "hive"},
    )
    tool = ToolVersion("pg_dump", "pg_dump (PostgreSQL) 16.4", 16, "docker exec hive-postgres")
    return DumpEntry(("workspace",), "hive", "localhost:5532", facts, file, digest, size, tool, "2026-11-26T11:43:22Z")


def test_a_manifest_survives_json() -> None:
    manifest = Manifest("legacy install", "2026-11-26T11:43:21Z", (entry(),), None)
    again = manifest_from_json(json.loads(json.dumps(manifest.to_json())), "m")
    assert again == manifest, "every field comes back (table counts, extensions, schema oids, the tool)"
    assert again.dumps[0].facts.tables[1].name == 'public."Odd Name"', "quoted where needed"


def test_names_are_quoted_only_where_sql_needs_it() -> None:
    assert ident("component_versions") == "component_versions"
    assert ident("Hq3xTu8kLm2Np5Rs") == '"Hq3xTu8kLm2Np5Rs"', "mixed case is quoted"
    assert ident('a"b') == '"a""b"', "a double quote is doubled"


def test_fingerprint_changes_with_any_count() -> None:
    facts = entry().facts
    moved = DatabaseFacts(facts.server_version, 16, (TableCount("hive", "component_versions", 301), facts.tables[1]))
    assert facts.fingerprint() != moved.fingerprint(), "one row more is another fingerprint"
    reordered = DatabaseFacts("x", 15, tuple(reversed(facts.tables)))
    assert facts.fingerprint() == reordered.fingerprint(), "independent of order and of the version text"


def test_a_new_folder_is_private_and_never_an_existing_one(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        first = new_folder(tmp_path / "backups", "hive-dev", MOMENT)
        second = new_folder(tmp_path / "backups", "hive-dev", MOMENT)
    finally:
        os.umask(old)
    assert first.name == "hive-dev-20261126T114321Z" and second.name == "hive-dev-20261126T114321Z-2", (
        "named after the UTC time; the same second gets a new folder, never the old one"
    )
    assert first.stat().st_mode & 0o777 == 0o700, "0700 whatever the umask"


def test_new_files_are_0600_and_never_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "a.dump"
    with new_file(path) as out:
        out.write(b"x")
    assert path.stat().st_mode & 0o777 == 0o600, "0600 from creation"
    with pytest.raises(FileExistsError), new_file(path):
        pass
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError), new_file(tmp_path / "link"):
        pass


def test_the_manifest_is_written_whole_and_read_back(tmp_path: Path) -> None:
    manifest = Manifest("stack dev", "2026-11-26T11:43:21Z", (entry(),), "database")
    path = write_manifest(tmp_path, manifest)
    assert path.name == MANIFEST and path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST], "no temporary file left"
    assert read_manifest(tmp_path) == manifest


def test_folders_that_are_not_complete_dumps_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such dump folder"):
        read_manifest(tmp_path / "nope")
    with pytest.raises(CommandError, match=r"has no manifest\.json, so it is an incomplete dump"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text("{")
    with pytest.raises(CommandError, match="cannot be read as JSON"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"format": "other/2"}))
    with pytest.raises(CommandError, match="not a hive-infra dump manifest"):
        read_manifest(tmp_path)


def test_an_archive_name_must_stay_inside_the_folder(tmp_path: Path) -> None:
    data = Manifest("x", "y", (entry(file="../../etc/passwd"),)).to_json()
    with pytest.raises(CommandError, match=r"malformed manifest .* not a plain file name"):
        manifest_from_json(data, "m")


def test_checksums_name_each_missing_or_changed_archive(tmp_path: Path) -> None:
    good = tmp_path / "workspace-hive.dump"
    good.write_bytes(b"archive")
    ok = entry(good.name, sha256_of(good), 7)
    assert checksum_problems(tmp_path, [ok]) == [], "size and sha256 as recorded"
    changed = entry(good.name, sha256_of(good), 7)
    good.write_bytes(b"archivE")
    (problem,) = checksum_problems(tmp_path, [changed])
    assert "workspace-hive.dump: its sha256 differs from the manifest's" in problem, "same size, other bytes"
    (missing,) = checksum_problems(tmp_path, [entry("agent-hive_agent.dump")])
    assert "agent-hive_agent.dump: missing" in missing
