"""A mode added back takes over the database its removal left on the server (#29):
the program's question to the stack's PostgreSQL container, and the ``import_`` it decides."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hive_infra.pg.retained import server_databases
from tests.support.program import run_program

PG_DATABASE = "postgresql:index/database:Database"


def fake_docker(tmp_path: Path, body: str) -> str:
    script = tmp_path / "docker"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_the_server_is_asked_through_psql_in_its_container(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "argv"
    answer = (
        f'case "$1" in inspect) echo hive/dev;; *) echo "$@" > {log}; printf "postgres\\nhive\\nhive_genie\\n";; esac'
    )
    monkeypatch.setenv("HIVE_DOCKER", fake_docker(tmp_path, answer))
    assert server_databases("hive-postgres-shared", "postgres", "hive/dev") == {"postgres", "hive", "hive_genie"}, (
        "one name a line, as psql -At prints them"
    )
    assert server_databases("hive-postgres-shared", "postgres", "hive/other") == frozenset(), (
        "a container of the same name that another stack labelled is never asked: nothing of ours is there"
    )
    argv = log.read_text()
    assert argv.startswith("exec hive-postgres-shared psql -U postgres -d postgres -XAtc SELECT datname"), (
        f"read-only, as the admin over the container's trusted socket: no password at program time: {argv}"
    )


@pytest.mark.parametrize("body", ["echo 'No such container' >&2; exit 1", "exit 125"])
def test_no_answer_means_nothing_to_take_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    monkeypatch.setenv("HIVE_DOCKER", fake_docker(tmp_path, body))
    assert server_databases("hive-postgres-shared", "postgres", "hive/dev") == frozenset(), (
        "before the first up there is no container: the program goes on and creates what it declares"
    )
    monkeypatch.setenv("HIVE_DOCKER", str(tmp_path / "no-docker-here"))
    assert server_databases("hive-postgres-shared", "postgres", "hive/dev") == frozenset(), "no docker is no failure"


def test_a_database_already_on_the_server_is_taken_over_not_created() -> None:
    run = run_program(databases_on_server=frozenset({"postgres", "hive", "hive_genie"}))
    imports = {r.name: r.import_id for r in run.of_type(PG_DATABASE)}
    assert imports == {
        "hive-database-database": "hive",
        "hive-database-database-agent": "",
        "hive-database-database-genie": "hive_genie",
    }, (
        "a database the server has is declared with import_ (its rows taken over; a no-op for one the state "
        "holds under the same id), one it lacks is created: genie added back no longer fails on "
        "'database hive_genie already exists'"
    )


def test_nothing_is_taken_over_on_a_server_that_has_none() -> None:
    run = run_program()
    assert all(r.import_id == "" for r in run.of_type(PG_DATABASE)), "a first up creates every database"


def test_a_modes_api_volumes_outlive_the_mode() -> None:
    run = run_program()
    volumes = run.of_type("docker:index/volume:Volume")
    api = [v for v in volumes if v.name.startswith("hive-api-")]
    assert len(api) == 6 and all(v.retain_on_delete for v in api), (
        "each mode's logs and data volumes are kept when the mode is removed (Docker's create of the same name "
        "then returns them to the mode added back), never deleted without a word"
    )
    layout = run.named("hive-layout").inputs["volumes"]
    assert layout["genie"] == ["hive-genie-logs", "hive-genie-data"], (
        "the layout record knows each mode's volumes, so the up that removes the mode can name them"
    )
