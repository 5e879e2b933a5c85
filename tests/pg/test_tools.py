"""Endpoints and the programs that dump and restore (``hive_infra.pg.endpoint``,
``hive_infra.pg.tools``), with fake pg_dump/pg_restore scripts that record what
they were given: where they connect, and that no password is in an argument."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hive_infra.core.errors import CommandError
from hive_infra.pg.endpoint import READ_ONLY_OPTIONS, Endpoint
from hive_infra.pg.tools import (
    BINDIR_ENV,
    DOCKER_ENV,
    DockerExecTools,
    LocalTools,
    choose_tools,
    dbname_arg,
    docker_command,
)
from tests.support.docker_fakes import make_fake_docker_cli

PASSWORD = "s3cret/Pass:word@1"
URL = "postgresql+psycopg://Hq3xUser:s3cret%2FPass%3Aword%401@db.example.org:6543/hive_agent?options=-csearch_path%3Dagent&sslmode=require"

FAKE_PROGRAM = """#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
if sys.argv[1:] == ["--version"]:
    print(name + " (PostgreSQL) 16.4 (Debian 16.4-1)")
    sys.exit(0)
record = {{"argv": sys.argv[1:], "env": {{k: v for k, v in os.environ.items() if k.startswith("PG")}}}}
if "--list" in sys.argv:
    print("1; 3079 1 EXTENSION - citext ")
    sys.exit(0)
if name == "pg_restore":
    listing = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--use-list="))
    record["list"] = open(listing).read()
    record["stdin"] = sys.stdin.buffer.read().decode() if not sys.argv[-1].endswith(".dump") else None
else:
    sys.stdout.write("ARCHIVE")
with open({log!r}, "a") as f:
    f.write(json.dumps(record) + "\\n")
"""


@pytest.fixture
def fake_bindir(tmp_path: Path) -> tuple[Path, Path]:
    bindir, log = tmp_path / "bin", tmp_path / "programs.jsonl"
    bindir.mkdir()
    for name in ("pg_dump", "pg_restore"):
        script = bindir / name
        script.write_text(FAKE_PROGRAM.format(python=sys.executable, log=str(log)))
        script.chmod(0o755)
    return bindir, log


def records(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_dbname_is_passed_as_a_conninfo_naming_only_the_database() -> None:
    assert dbname_arg("hive_agent") == "--dbname=dbname='hive_agent'"
    assert dbname_arg("host=evil") == "--dbname=dbname='host=evil'", "a name holding '=' stays a name"


def test_local_tools_pass_credentials_in_the_environment(
    fake_bindir: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir, log = fake_bindir
    monkeypatch.setenv(BINDIR_ENV, str(bindir))
    monkeypatch.setenv("PGPASSWORD", "inherited-from-the-shell")  # never reaches the child
    monkeypatch.setenv("PGSERVICE", "someone-elses")
    tools = LocalTools.from_env()
    version = tools.version("pg_dump")
    assert version.major == 16 and version.where == f"local {bindir}/pg_dump", "says which binary"
    endpoint = Endpoint.from_url(URL, "u", read_only=True)
    archive = tmp_path / "a.dump"
    with open(archive, "wb") as f:
        tools.dump(endpoint, f, "00000004-00000003-1")
    assert archive.read_bytes() == b"ARCHIVE", "the archive is the program's stdout"
    tools.restore(endpoint.with_database("hive_genie"), archive, "1; 2 3 TABLE a b c\n", clean=True)
    dump, restore = records(log)
    assert PASSWORD not in json.dumps([dump["argv"], restore["argv"]]), "no password in any argument"
    assert dump["env"] == {  # type: ignore[comparison-overlap]
        "PGHOST": "db.example.org",
        "PGPORT": "6543",
        "PGUSER": "Hq3xUser",
        "PGPASSWORD": PASSWORD,
        "PGDATABASE": "hive_agent",
        "PGAPPNAME": "hive-infra",
        "PGCONNECT_TIMEOUT": "10",
        "PGSSLMODE": "require",
        "PGOPTIONS": READ_ONLY_OPTIONS,
    }, "exactly the endpoint's libpq variables: nothing inherited (PGSERVICE, the shell's PGPASSWORD)"
    assert "--snapshot=00000004-00000003-1" in dump["argv"], "the snapshot the counts were taken in"  # type: ignore[operator]
    assert restore["argv"][:5] == ["--no-owner", "--no-acl", "--single-transaction", "--exit-on-error", "--no-password"]  # type: ignore[index]
    assert "--clean" in restore["argv"] and "--if-exists" in restore["argv"], "--replace"  # type: ignore[operator]
    assert "--dbname=dbname='hive_genie'" in restore["argv"], "into the target database"  # type: ignore[operator]
    assert restore["list"] == "1; 2 3 TABLE a b c\n", "the filtered list"


def test_docker_exec_passes_variables_by_name_and_streams_archives(
    fake_bindir: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir, log = fake_bindir
    docker = make_fake_docker_cli(tmp_path / "docker", {"hive-postgres-shared": ("127.0.0.1", 40001, str(bindir))})
    monkeypatch.setenv(DOCKER_ENV, str(docker.path))
    tools = choose_tools("auto", "hive-postgres-shared", "the stack")
    assert isinstance(tools, DockerExecTools) and tools.where == "docker exec hive-postgres-shared"
    assert tools.version("pg_restore").where == "docker exec hive-postgres-shared", "the container's own program"
    endpoint = Endpoint("localhost", 5532, "hive", PASSWORD, "hive")
    archive = tmp_path / "a.dump"
    with open(archive, "wb") as f:
        tools.dump(endpoint, f, None)
    assert archive.read_bytes() == b"ARCHIVE", "streamed out through docker exec's stdout"
    assert "EXTENSION - citext" in tools.toc(archive), "the list, from the archive on stdin"
    tools.restore(endpoint, archive, "1; 2 3 TABLE a b c\n", clean=False)
    dump, restore = records(log)
    assert dump["env"]["PGHOST"] == "127.0.0.1" and dump["env"]["PGPORT"] == "40001", (  # type: ignore[index]
        "inside, the programs connect to localhost:5432, the container's own server (the fake maps it)"
    )
    assert dump["env"]["PGPASSWORD"] == PASSWORD, "the password reached the container through --env PGPASSWORD"  # type: ignore[index]
    assert restore["stdin"] == "ARCHIVE" and restore["list"] == "1; 2 3 TABLE a b c\n", "archive on stdin, list"
    for argv in docker.calls:
        assert not any(PASSWORD in a for a in argv), f"no password in a docker argument: {argv}"
    execs = [a for a in docker.calls if "pg_dump" in a and "--version" not in a]
    assert execs and "--env" in execs[0] and "PGPASSWORD" in execs[0], "the variable is named, its value is not"
    removed = [a for a in docker.calls if a[-3:-1] == ["rm", "-f"]]
    assert removed and not Path(removed[0][-1]).exists(), "the list written into the container is removed"


def test_choosing_the_tools() -> None:
    assert isinstance(choose_tools("auto", None, "x"), LocalTools), "no container: local binaries"
    assert isinstance(choose_tools("local", "hive-postgres-shared", "x"), LocalTools), "local when asked"
    with pytest.raises(CommandError, match="--tools docker: the server runs in no container"):
        choose_tools("docker", None, "the server")


def test_missing_programs_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BINDIR_ENV, str(tmp_path))
    with pytest.raises(CommandError, match=f"{BINDIR_ENV}={tmp_path} holds no executable pg_dump"):
        LocalTools.from_env().version("pg_dump")
    monkeypatch.delenv(BINDIR_ENV)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="no pg_dump on PATH: install the PostgreSQL client"):
        LocalTools.from_env().version("pg_dump")
    monkeypatch.delenv(DOCKER_ENV, raising=False)
    with pytest.raises(CommandError, match=r"the docker CLI .* is not on PATH.*--tools local"):
        DockerExecTools("hive-postgres-shared")
    with pytest.raises(CommandError) as caught:
        docker_command()
    assert "--tools" not in str(caught.value), "the program and the providers have no --tools option to name"
