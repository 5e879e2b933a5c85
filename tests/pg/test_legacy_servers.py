"""Finding a legacy install's servers from its .env files and Docker (``hive_infra.pg.legacy_servers``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive_infra.core.errors import CommandError
from hive_infra.pg.legacy_servers import find_legacy
from tests.support.docker_fakes import FakeContainer, FakeDockerClient, published

USER, PASSWORD = "Hq3xTu8kLm2Np5Rs", "Lg7pW2xQ9rT4vY6z"


def env(folder: Path, name: str, port: int, database: str) -> str:
    path = folder / name
    path.write_text(f"HIVE_DATABASE_URL=postgresql+psycopg://{USER}:{PASSWORD}@localhost:{port}/{database}\n")
    return str(path)


def no_docker() -> FakeDockerClient:
    return FakeDockerClient([], ping_error=OSError("connection refused"))


def test_each_mode_file_is_a_source(tmp_path: Path) -> None:
    files = [
        env(tmp_path, ".env", 5532, "hive"),
        env(tmp_path, ".env.agent", 35532, "hive_agent"),
        env(tmp_path, ".env.genie", 48532, "hive_genie"),
    ]
    install = find_legacy(files, no_docker)
    found = {s.mode: (s.endpoint.port, s.endpoint.database, s.container) for s in install.sources}
    assert found == {
        "workspace": (5532, "hive", None),
        "agent": (35532, "hive_agent", None),
        "genie": (48532, "hive_genie", None),
    }, "host, port and database of each mode's file; no container without Docker"
    assert all(s.endpoint.read_only and s.endpoint.user == USER for s in install.sources), "read-only, legacy login"
    assert any("no reachable Docker engine" in n for n in install.notes), "says Docker did not answer"


def test_docker_adds_a_mode_without_a_file_and_the_container_to_exec_in(tmp_path: Path) -> None:
    docker = FakeDockerClient(
        [
            FakeContainer("hive-postgres", "running", published(5532)),
            FakeContainer("hive-postgres-agent", "running", published(35532)),
            FakeContainer("hive-postgres-genie", "exited", published(48532)),
        ]
    )
    install = find_legacy([env(tmp_path, ".env", 5532, "hive")], lambda: docker)
    found = {s.mode: (s.endpoint.port, s.endpoint.database, s.origin, s.container) for s in install.sources}
    assert found == {
        "workspace": (5532, "hive", str(tmp_path / ".env"), "hive-postgres"),
        "agent": (35532, "hive_agent", "container hive-postgres-agent", "hive-postgres-agent"),
    }, "the agent container's published port, its legacy database name; a stopped genie container is no source"
    (agent,) = [s for s in install.sources if s.mode == "agent"]
    assert (agent.endpoint.user, agent.endpoint.password) == (USER, PASSWORD), "every mode shared one login"
    assert install.missing == ["genie"], "genie: nothing found"
    assert any(f"logging in as {USER}" in n for n in install.notes), "says where the login came from"


def test_the_seeds_shared_database_is_one_source_for_workspace(tmp_path: Path) -> None:
    files = [
        env(tmp_path, ".env", 5532, "hive"),
        env(tmp_path, ".env.agent", 5532, "hive"),
        env(tmp_path, ".env.genie", 5532, "hive"),
    ]
    install = find_legacy(files, no_docker)
    (source,) = install.sources
    assert source.mode == "workspace" and source.shared_with == ("agent", "genie"), "one database, to workspace"
    assert sum("the seed's layout" in n for n in install.notes) == 2, "said for agent and for genie"
    alone = find_legacy([env(tmp_path, ".env.agent", 5532, "hive")], no_docker)
    assert [s.mode for s in alone.sources] == ["workspace"], (
        "an agent file naming the workspace's database, alone: still the workspace's database"
    )


def test_a_bad_file_is_refused_with_adopts_message(tmp_path: Path) -> None:
    bad = tmp_path / ".env"
    bad.write_text("HIVE_DATABASE_URL=postgresql+psycopg://user:change-me@localhost:5532/hive\n")
    with pytest.raises(CommandError, match="placeholder word 'change-me'"):
        find_legacy([str(bad)], no_docker)
    with pytest.raises(CommandError, match="no such file"):
        find_legacy([str(tmp_path / "missing.env")], no_docker)


def test_only_a_published_postgresql_port_counts(tmp_path: Path) -> None:
    api_only = {"8886/tcp": [{"HostIp": "0.0.0.0", "HostPort": "35532"}]}
    docker = FakeDockerClient([FakeContainer("hive-postgres-agent", "running", api_only)])
    install = find_legacy([env(tmp_path, ".env", 5532, "hive"), env(tmp_path, ".env.agent", 35532, "hive_agent")],
                          lambda: docker)  # fmt: skip
    (agent,) = [s for s in install.sources if s.mode == "agent"]
    assert agent.container is None, "a container whose 5432 is not on the file's port does not serve it"
    alone = find_legacy([env(tmp_path, ".env", 5532, "hive")], lambda: docker)
    assert [s.mode for s in alone.sources] == ["workspace"], "nor is it a source without its PostgreSQL port"
