"""The shapes of the stack's outputs, from plain values (no Pulumi)."""

from __future__ import annotations

import io

from dotenv import dotenv_values

from hive_infra.components import export_values
from hive_infra.config import parse_config
from hive_infra.core import rendering
from hive_infra.core.modes import MODES

CFG = parse_config({"modes": '["workspace", "genie"]', "envDir": "conf"})


def _entries() -> dict[str, rendering.EnvEntries]:
    out = {}
    for placement in CFG.placements:
        mode = placement.mode
        endpoint = rendering.DbEndpoint("localhost", 5532, "hive", f"pw-{mode.name}")
        out[mode.name] = rendering.env_entries(placement, CFG.ports(mode), endpoint, "B" * 43)
    return out


def test_postgres_summary_names_the_server_without_secrets() -> None:
    summary = export_values.postgres_summary(CFG, "localhost", "hive-postgres-shared")
    assert summary == {
        "mode": "container",
        "isolation": "database",
        "container": "hive-postgres-shared",
        "host": "localhost",
        "port": 5532,
        "database": "hive",
        "user": "hive",
        "sslmode": "disable",
    }, "where the shared server is and who logs in, nothing secret"


def test_api_urls_are_where_this_machine_reaches_each_api() -> None:
    assert export_values.api_urls(CFG) == {"workspace": "http://localhost:8886", "genie": "http://localhost:48886"}, (
        "the loopback default bindAddress is reached on localhost, each selected mode on its own port"
    )
    for bind, host in (
        ("0.0.0.0", "localhost"),
        ("::", "localhost"),
        ("10.0.0.5", "10.0.0.5"),
        ("fd00::5", "[fd00::5]"),
    ):
        cfg = parse_config({"modes": '["agent"]', "bindAddress": bind})
        assert export_values.api_urls(cfg) == {"agent": f"http://{host}:38886"}, (
            f"bindAddress {bind}: reached on {host}"
        )


def test_env_file_paths_follow_env_dir() -> None:
    assert export_values.env_file_paths(CFG) == {"workspace": "conf/.env", "genie": "conf/.env.genie"}, "under envDir"


def test_ports_and_schemas_cover_the_selected_modes_only() -> None:
    assert export_values.ports(CFG) == {"workspace": {"db": 5532, "api": 8886}, "genie": {"db": 5532, "api": 48886}}, (
        "each selected mode's ports from the one port function"
    )
    assert export_values.schemas(CFG.mode_table) == {"workspace": "public", "genie": "genie"}, (
        "schema per selected mode"
    )
    assert export_values.databases(CFG.placements) == {"workspace": "hive", "genie": "hive_genie"}, (
        "a database per mode"
    )


def test_entry_of_picks_one_key_per_mode() -> None:
    entries = _entries()
    urls = export_values.entry_of(entries, "HIVE_DATABASE_URL")
    assert set(urls) == {"workspace", "genie"}, "one URL per selected mode"
    assert "pw-genie@" in urls["genie"] and "pw-workspace@" in urls["workspace"], "each mode's own entry"
    keys = export_values.entry_of(entries, "HIVE_API_KEY")
    assert keys["genie"] == "hive_genie_" + "B" * 43, "the mode's key"


def test_env_files_are_the_rendered_text_at_the_mode_path() -> None:
    files = export_values.env_files(CFG.mode_table, _entries(), CFG.env_dir, "# header")
    assert {m: f["path"] for m, f in files.items()} == {"workspace": "conf/.env", "genie": "conf/.env.genie"}, (
        "the legacy file names under envDir"
    )
    genie = dotenv_values(stream=io.StringIO(files["genie"]["content"]))
    assert genie["HIVE_API_PORT"] == "48886" and genie["POSTGRES_PASSWORD"] == "pw-genie", "the mode's values"
    assert files["genie"]["content"].startswith("# header\n"), "the header leads a new file"
    assert MODES["agent"].name not in files, "an unselected mode gets no file"
