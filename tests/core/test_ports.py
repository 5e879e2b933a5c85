from hypothesis import given
from hypothesis import strategies as st

from hive_infra.core.modes import MODES
from hive_infra.core.ports import MAX_PORT, ModePorts, mode_ports, port_in_range


def test_legacy_ports() -> None:
    got = {name: mode_ports(mode, 5532, 8886) for name, mode in MODES.items()}
    assert got == {
        "workspace": ModePorts(db=5532, api=8886),
        "agent": ModePorts(db=5532, api=38886),
        "genie": ModePorts(db=5532, api=48886),
    }, "the legacy ports: shared 5532, API 8886 with prefixes 3 and 4"


def test_prefix_is_written_in_front_not_added() -> None:
    assert mode_ports(MODES["agent"], 5432, 80).api == 380, "prefix '3' before 80 is 380, not 30080"


@given(db=st.integers(1, MAX_PORT), api=st.integers(1, MAX_PORT))
def test_db_port_is_shared(db: int, api: int) -> None:
    assert {mode_ports(m, db, api).db for m in MODES.values()} == {db}, "every mode uses the base db port"


@given(api=st.integers(1, MAX_PORT))
def test_api_ports_are_distinct_and_end_in_the_base(api: int) -> None:
    ports = [mode_ports(m, 5532, api).api for m in MODES.values()]
    assert len(set(ports)) == len(ports), "modes never share an API port"
    for port in ports:
        assert str(port).endswith(str(api)), "the base port's digits stay at the end"


@given(api=st.integers(1, MAX_PORT))
def test_derived_ports_in_range_or_flagged(api: int) -> None:
    for mode in MODES.values():
        port = mode_ports(mode, 5532, api).api
        assert port_in_range(port) == (1 <= port <= 65535), "port_in_range is the 1..65535 test"
        if api >= 10000 and mode.port_prefix:
            assert not port_in_range(port), "a prefixed 5-digit base always leaves the port range"


def test_range_edges() -> None:
    assert port_in_range(1) and port_in_range(65535), "both ends of the range are valid"
    assert not port_in_range(0) and not port_in_range(65536), "0 and 65536 are not ports"
