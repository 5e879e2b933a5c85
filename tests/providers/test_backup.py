"""The DataBackup provider's rules, without a server: when it dumps, what it refuses, what it records.

The dump itself runs on a real PostgreSQL in the engine tier (external mode, a destroy
with dropSchemasOnDestroy) and on a real Docker engine in the Docker tier.
"""

from __future__ import annotations

import base64
import os
import stat
import sys
from pathlib import Path
from typing import Any

import dill
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pulumi.dynamic.dynamic import serialize_provider

from hive_infra.providers import backup, destroy_checks
from hive_infra.providers.backup import BackupError, BackupPlan, DataBackupProvider, container_problem, space_problem
from hive_infra.providers.wire import UNKNOWN
from tests.support.program import PROJECT_DIR

ROOT = PROJECT_DIR
PASSWORD = "Role-Passw0rd-Not-For-Messages"
SECRET_WRAPPED = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": PASSWORD}


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "enabled": True,
        "folder": "backups",
        "container": "hive-postgres-shared",
        "host": "localhost",
        "port": 5532,
        "user": "hive",
        "password": SECRET_WRAPPED,
        "databases": [["hive", ["workspace"]], ["hive_agent", ["agent"]]],
        "isolation": "database",
        "stack": "dev",
        "envFiles": [],
    }
    return {**base, **overrides}


def test_the_plan_reads_the_state_with_the_secret_unwrapped() -> None:
    plan = BackupPlan.from_props(props())
    assert plan.password == PASSWORD, "the state's secret wrapper is removed before the login"
    assert plan.databases == (("hive", ("workspace",)), ("hive_agent", ("agent",))), "pairs of database and modes"
    assert plan.endpoint("hive_agent").database == "hive_agent" and plan.endpoint("hive").port == 5532
    assert plan.sslmode is None, "an sslmode the state does not hold is libpq's default"
    assert PASSWORD not in repr(plan), "the plan's repr never shows the password"


def test_a_disabled_backup_deletes_without_touching_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a disabled backup must not inspect, connect or dump")

    monkeypatch.setattr(backup, "take_backup", forbidden)
    DataBackupProvider().delete(backup.BACKUP_ID, props(enabled=False))


def test_an_enabled_backup_is_taken_by_the_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[BackupPlan] = []
    monkeypatch.setattr(backup, "take_backup", lambda plan, _say: taken.append(plan))
    DataBackupProvider().delete(backup.BACKUP_ID, props())
    assert [p.container for p in taken] == ["hive-postgres-shared"], "the delete dumps, once, with the state's plan"


def test_create_and_update_only_record_and_never_replace() -> None:
    provider = DataBackupProvider()
    created = provider.create(props())
    assert created.id == backup.BACKUP_ID and created.outs == {**props(), "sslmode": None}, "create records every input"
    changed = props(folder="/srv/backups", enabled=False)
    diff = provider.diff(backup.BACKUP_ID, props(), changed)
    assert diff.changes and not diff.replaces, "a changed input is an update in place, never a replace (a dump)"
    updated = provider.update(backup.BACKUP_ID, props(), changed).outs
    assert updated == {**changed, "sslmode": None}, "update returns every output"
    same = provider.diff(backup.BACKUP_ID, props(), props(password=PASSWORD))
    assert not same.changes, "a secret compared unwrapped: the same password is no change"


@pytest.mark.parametrize("folder", ["", None, "a\0b"])
def test_check_refuses_a_folder_that_is_not_a_path(folder: Any) -> None:
    result = DataBackupProvider().check({}, props(folder=folder))
    assert [f.property for f in result.failures] == ["folder"], f"{folder!r} is refused, naming the input"


def test_check_passes_unknown_values_of_a_preview() -> None:
    result = DataBackupProvider().check({}, props(folder=UNKNOWN, password=UNKNOWN, container=UNKNOWN))
    assert not result.failures, "a preview's unknown values are checked when they are known"


def test_a_running_container_is_the_only_one_dumped_from() -> None:
    assert container_problem("hive-postgres-shared", "running") is None, "running: the dump goes ahead"
    stopped = container_problem("hive-postgres-shared", "exited")
    assert stopped and "docker start hive-postgres-shared" in stopped, "stopped: start it"
    assert "pulumi config set hive:backupOnDestroy false" in stopped, "or turn the backup off"
    assert "no data was deleted" in stopped, "and the user learns their data is still there"
    gone = container_problem("hive-postgres-shared", None, "prod")
    assert gone and "make repair STACK=prod" in gone and "backupOnDestroy false" in gone, (
        "gone: bring it back with the repair as it runs, or turn off"
    )


@given(needed=st.integers(min_value=0, max_value=2**50), free=st.integers(min_value=0, max_value=2**50))
def test_the_disk_must_hold_the_databases_size(needed: int, free: int) -> None:
    problem = space_problem(needed, free, Path("backups"))
    assert (problem is None) == (free >= needed), "refused exactly when the free space is below the databases' size"
    if problem:
        assert "backups" in problem and "hive:backupDir" in problem and "backupOnDestroy false" in problem, (
            "the refusal names the folder and both ways out"
        )


def test_the_nearest_existing_parent_answers_for_a_new_folder(tmp_path: Path) -> None:
    assert backup.existing_parent(tmp_path / "a" / "b" / "c") == tmp_path, "the folder is made later, on that disk"
    assert backup.existing_parent(tmp_path) == tmp_path


def test_a_stopped_container_stops_the_delete_before_any_connection(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(backup, "container_state", lambda _name: "exited")

    def no_connection(_plan: BackupPlan) -> None:
        raise AssertionError("no connection is tried to a stopped server")

    monkeypatch.setattr(backup, "present_databases", no_connection)
    with pytest.raises(BackupError) as refused:
        DataBackupProvider().delete(backup.BACKUP_ID, props(folder=str(tmp_path / "b")))
    assert "is exited" in str(refused.value) and PASSWORD not in str(refused.value), "named, without the password"
    assert not (tmp_path / "b").exists(), "no folder is made"


def fake_docker(tmp_path: Path, script: str) -> str:
    path = tmp_path / "docker"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize(
    ("script", "state"),
    [
        ("echo running", "running"),
        ("echo exited", "exited"),
        ("echo 'Error: No such container: hive-postgres-shared' >&2; exit 1", None),
    ],
)
def test_the_container_state_comes_from_docker_inspect(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str, state: str | None
) -> None:
    monkeypatch.setenv("HIVE_DOCKER", fake_docker(tmp_path, script))
    assert backup.container_state("hive-postgres-shared") == state, f"docker inspect said: {script}"


def test_a_daemon_that_does_not_answer_refuses_the_delete(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HIVE_DOCKER", fake_docker(tmp_path, "echo 'Cannot connect to the Docker daemon' >&2; exit 1"))
    with pytest.raises(BackupError, match=r"Cannot connect to the Docker daemon.*no data was deleted"):
        backup.container_state("hive-postgres-shared")


def test_the_provider_pickles_by_reference(tmp_path: Path) -> None:
    serialized = serialize_provider(DataBackupProvider())  # the SDK's own code path
    raw = base64.b64decode(serialized)
    assert len(raw) < 200 and b"hive_infra.providers.backup" in raw, f"pickled by reference, got {len(raw)} bytes"
    for path in (str(ROOT), str(tmp_path), os.getcwd(), sys.prefix):
        assert path.encode() not in raw, f"the pickle must not hold the machine path {path}"
    assert type(dill.loads(raw)) is DataBackupProvider, "it loads back as the class the state names"


def test_no_database_on_the_server_leaves_no_empty_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(backup, "container_state", lambda _name: "running")
    monkeypatch.setattr(backup, "present_databases", lambda _plan: [])
    said: list[str] = []
    plan = BackupPlan.from_props(props(folder=str(tmp_path / "b")))
    assert backup.take_backup(plan, said.append) is None, "nothing to keep"
    assert said == ["backup before destroy: none of hive, hive_agent is on the server"], "and it says so"
    assert not (tmp_path / "b").exists(), "no empty backup folder is made"


# --- a destroy finishes or deletes nothing (#29) -------------------------------------------


def _no_backup(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    taken: list[str] = []
    monkeypatch.setattr(backup, "take_backup", lambda plan, say: taken.append(plan.folder))
    return taken


def test_an_env_file_the_destroy_cannot_edit_refuses_it_before_the_backup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    taken = _no_backup(monkeypatch)
    (tmp_path / "real").write_text("A=1\n")
    (tmp_path / ".env.agent").symlink_to(tmp_path / "real")
    (tmp_path / ".env").write_bytes(b"LATIN1=caf\xe9\n")  # odd, but an EnvFile delete keeps it: no refusal
    files = [str(tmp_path / ".env"), str(tmp_path / ".env.agent"), str(tmp_path / ".env.genie")]
    with pytest.raises(BackupError) as info:
        DataBackupProvider().delete(backup.BACKUP_ID, props(envFiles=files))
    message = str(info.value)
    assert ".env.agent is a symbolic link" in message and "Nothing was deleted" in message, (
        f"the EnvFile delete would fail on it after the containers are gone: refused up front: {message}"
    )
    assert ".env:" not in message and "genie" not in message, "a file it can edit, or none, is no problem"
    assert not taken, "refused before the backup: nothing written, nothing deleted"
    (tmp_path / ".env.agent").unlink()
    DataBackupProvider().delete(backup.BACKUP_ID, props(envFiles=files))
    assert taken == ["backups"], "once fixed, the destroy goes on"


def test_a_folder_it_cannot_write_in_refuses_the_destroy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_backup(monkeypatch)
    (tmp_path / ".env").write_text("A=1\n")
    monkeypatch.setattr(destroy_checks.os, "access", lambda path, mode: path != str(tmp_path))
    with pytest.raises(BackupError, match="cannot write in the folder"):
        DataBackupProvider().delete(backup.BACKUP_ID, props(envFiles=[str(tmp_path / ".env")], enabled=False))


def test_a_state_without_env_files_checks_those_the_stack_file_places(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_backup(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  hive:envDir: conf\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / ".env.agent").mkdir()
    old_state = {k: v for k, v in props().items() if k != "envFiles"}
    with pytest.raises(BackupError, match=r"conf/\.env\.agent is a directory"):
        DataBackupProvider().delete(backup.BACKUP_ID, old_state)
    assert not DataBackupProvider().diff(backup.BACKUP_ID, old_state, props()).changes, (
        "a stack deployed before envFiles existed previews no change on upgrade (the state is a contract)"
    )


def test_destroy_says_which_backup_dir_it_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    taken = _no_backup(monkeypatch)
    warned: list[str] = []
    monkeypatch.setattr(backup.pulumi.log, "warn", lambda text, *a, **k: warned.append(text))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  hive:backupDir: /srv/new\n")
    DataBackupProvider().delete(backup.BACKUP_ID, props())
    assert taken == ["backups"], "the engine runs the deployed inputs: the deployed folder is the one used"
    assert len(warned) == 1 and "/srv/new" in warned[0] and "used backups" in warned[0] and "pulumi up" in warned[0], (
        f"the user is told the configured folder was not used, and how to apply it: {warned}"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  hive:backupDir: ./backups\n")
    warned.clear()
    DataBackupProvider().delete(backup.BACKUP_ID, props())
    assert not warned, "the same folder: nothing to say"
