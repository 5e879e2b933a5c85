"""The Docker names, container paths and the one rule for this machine's own address."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hive_infra.core import names as docker_names
from hive_infra.core.modes import MODES
from hive_infra.core.names import LEGACY_NAMES, DockerNames, is_this_machine, local_host_for


def test_default_names_are_the_legacy_ones() -> None:
    names = DockerNames("hive")
    assert names.postgres_container == "hive-postgres-shared", "the shared container's name from the seed"
    assert (names.network, names.postgres_volume) == ("hive-network", "hive-postgres-data"), "network and volume"
    assert [names.api_container(m) for m in MODES.values()] == [
        "hive-agents",
        "hive-agent-dev-server",
        "hive-genie-server",
    ], "API containers keep the legacy compose names"
    assert [LEGACY_NAMES.legacy_postgres_container(m) for m in MODES.values()] == [
        "hive-postgres",
        "hive-postgres-agent",
        "hive-postgres-genie",
    ], "the legacy per-mode PostgreSQL containers, which adopt and migrate look for"


def test_each_mode_has_its_own_app_volumes() -> None:
    names = DockerNames("hive")
    volumes = [(names.api_logs_volume(m), names.api_data_volume(m)) for m in MODES.values()]
    assert volumes == [
        ("hive-workspace-logs", "hive-workspace-data"),
        ("hive-agent-logs", "hive-agent-data"),
        ("hive-genie-logs", "hive-genie-data"),
    ], "<prefix>-<mode>-logs and -data: one pair per mode, apart from the database's volume"
    assert names.postgres_volume not in {v for pair in volumes for v in pair}, "never the database's volume"
    assert (docker_names.APP_LOGS_MOUNT, docker_names.APP_DATA_MOUNT) == ("/app/logs", "/app/data"), (
        "the legacy compose mounts"
    )


def test_names_follow_the_prefix() -> None:
    names = DockerNames("h2")
    assert names.postgres_container == "h2-postgres-shared" and names.network == "h2-network", "prefix first"
    assert names.api_container(MODES["genie"]) == "h2-genie-server", "API containers too"


def test_data_layout_is_the_legacy_compose_one() -> None:
    assert docker_names.DATA_MOUNT == "/var/lib/postgresql/data", (
        "where the legacy compose bind-mounted ./data/postgres"
    )
    assert docker_names.PGDATA == "/var/lib/postgresql/data/pgdata", "PGDATA one level below the mount"


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST", "localhost.", "db.localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]",
     "::ffff:127.0.0.1", "0.0.0.0", "::", " localhost "],
)  # fmt: skip
def test_every_spelling_of_this_machine_is_recognised(host: str) -> None:
    assert is_this_machine(host), f"{host!r} connects to this very machine"


@pytest.mark.parametrize(
    "host", ["db.example.org", "192.168.1.5", "10.0.0.1", "host.docker.internal", "fe80::1", "localhost.example.org"]
)
def test_other_hosts_are_not_this_machine(host: str) -> None:
    assert not is_this_machine(host), f"{host!r} is another machine (or at least not loopback)"


@given(st.ip_addresses())
def test_any_address_is_this_machine_exactly_when_loopback_or_wildcard(address: ipaddress._BaseAddress) -> None:
    mapped = getattr(address, "ipv4_mapped", None) or address
    expected = mapped.is_loopback or mapped.is_unspecified
    assert is_this_machine(str(address)) == expected, f"{address} is loopback/wildcard: {expected}"


@pytest.mark.parametrize(
    ("bind", "host"),
    [("127.0.0.1", "localhost"), ("0.0.0.0", "localhost"), ("::", "localhost"), ("::1", "localhost"),
     ("192.168.1.5", "192.168.1.5")],
)  # fmt: skip
def test_local_host_for_a_bind_address(bind: str, host: str) -> None:
    assert local_host_for(bind) == host, "loopback and wildcard binds are reached on localhost"
