"""The ``db`` and ``migrate`` command lines, and how a restore target is chosen."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hive_infra.__main__ import main
from hive_infra.commands.contract import Context
from hive_infra.core.errors import CommandError
from hive_infra.machine.stack_reader import PULUMI_ENV, StackOutputs
from hive_infra.pg.endpoint import Endpoint
from hive_infra.pg.manifest import DatabaseFacts, DumpEntry, Manifest
from hive_infra.pg.restore import assign
from hive_infra.pg.stack_view import StackView
from hive_infra.pg.versions import ToolVersion
from tests.support.fake_pulumi import make_fake_pulumi

URLS = {
    "workspace": "postgresql+psycopg://hive:pw-0123456789abcdef@localhost:5532/hive",
    "agent": "postgresql+psycopg://hive:pw-0123456789abcdef@localhost:5532/hive_agent?options=-csearch_path%3Dagent",
    "genie": "postgresql+psycopg://hive:pw-0123456789abcdef@localhost:5532/hive_genie",
}
OUTPUTS = {
    "postgres": {"mode": "container", "isolation": "database", "container": "hive-postgres-shared",
                 "host": "localhost", "port": 5532, "database": "hive", "user": "hive"},
    "ports": {m: {"db": 5532, "api": 8886} for m in URLS},
    "databases": {"workspace": "hive", "agent": "hive_agent", "genie": "hive_genie"},
    "databaseUrls": URLS,
}  # fmt: skip


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), Context(out, err))
    return code, out.getvalue(), err.getvalue()


def entry(modes: tuple[str, ...], database: str) -> DumpEntry:
    tool = ToolVersion("pg_dump", "pg_dump (PostgreSQL) 16.4", 16, "x")
    return DumpEntry(modes, database, "localhost:5532", DatabaseFacts("16.4", 16, ()), "f.dump", "0", 0, tool, "t")


def test_the_stack_view_reads_every_modes_login() -> None:
    view = StackView.from_outputs(StackOutputs("dev", OUTPUTS))
    assert view.modes == ("workspace", "agent", "genie") and view.container == "hive-postgres-shared"
    assert view.endpoints["agent"] == Endpoint("localhost", 5532, "hive", "pw-0123456789abcdef", "hive_agent")
    assert view.select(["genie", "workspace"]) == ("workspace", "genie"), "canonical order"
    with pytest.raises(CommandError, match="does not deploy mode nope"):
        view.select(["nope"])
    one = StackView.from_outputs(StackOutputs("dev", {**OUTPUTS, "databases": dict.fromkeys(URLS, "hive")}))
    assert one.groups(one.modes) == [("hive", ("workspace", "agent", "genie"))], "isolation=schema: one dump"


def test_a_schema_isolation_dump_goes_into_workspace_only() -> None:
    view = StackView.from_outputs(StackOutputs("dev", OUTPUTS))
    manifest = Manifest("stack old", "t", (entry(("workspace", "agent", "genie"), "hive"),), "schema")
    (assignment,), notes = assign(manifest, view, ())
    assert assignment.mode == "workspace" and assignment.target.database == "hive", "the first mode's database"
    assert "no tool can split them by mode" in notes[0] and "agent, genie start empty" in notes[0], "says so"
    with pytest.raises(CommandError, match="the dump holds no archive of mode nope"):
        assign(manifest, view, ("nope",))


def test_migrate_needs_from_legacy() -> None:
    code, _, err = run("migrate")
    assert code == 2 and "migrate needs --from-legacy" in err and "nothing was changed" in err, err


def test_a_stack_that_cannot_be_read_is_pulumis_own_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = make_fake_pulumi(tmp_path, {}, exit_code=255, stderr="error: no stack named 'prod' found\n")
    monkeypatch.setenv(PULUMI_ENV, str(fake.path))
    code, out, err = run("db", "dump", "--stack", "prod", "--out", str(tmp_path / "b"))
    assert code == 2 and "no stack named 'prod' found" in err and out == "", err
    assert not (tmp_path / "b").exists(), "nothing written"
    assert fake.calls[0][-2:] == ["--stack", "prod"] and "--show-secrets" in fake.calls[0], "asks for the URLs"


def test_a_restore_of_a_missing_folder_is_refused(tmp_path: Path) -> None:
    code, _, err = run("db", "restore", str(tmp_path / "nope"))
    assert code == 2 and "no such dump folder" in err, err


def test_bad_arguments_exit_2() -> None:
    for argv in (["db"], ["db", "restore"], ["db", "dump", "--mode", "nope"], ["migrate", "--tools", "x"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, f"argparse refuses {argv}"
