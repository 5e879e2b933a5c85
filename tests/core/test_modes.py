from hive_infra.config.rules import IDENTIFIER
from hive_infra.core.modes import EXTENSIONS_SCHEMA, MODE_NAMES, MODES, PUBLIC_SCHEMA


def test_the_three_legacy_modes_in_order() -> None:
    assert MODE_NAMES == ("workspace", "agent", "genie"), "the canonical order drives defaults and output order"


def test_legacy_names_and_files() -> None:
    expected = {
        "workspace": ("", "public", ".env", "agents", "postgres"),
        "agent": ("3", "agent", ".env.agent", "agent-dev-server", "postgres-agent"),
        "genie": ("4", "genie", ".env.genie", "genie-server", "postgres-genie"),
    }
    for name, row in expected.items():
        mode = MODES[name]
        got = (mode.port_prefix, mode.schema, mode.env_file, mode.api_container_suffix, mode.legacy_postgres_suffix)
        assert got == row, f"{name} must keep the legacy layout's prefix, schema, file and container names"


def test_only_workspace_uses_public() -> None:
    assert [m.name for m in MODES.values() if m.uses_public_schema] == ["workspace"], (
        "workspace stays in public; every other mode gets its own schema"
    )


def test_schemas_are_plain_identifiers_and_distinct() -> None:
    schemas = [m.schema for m in MODES.values()]
    assert len(set(schemas)) == len(schemas), "two modes sharing a schema would see each other's tables"
    for schema in schemas:
        assert IDENTIFIER.fullmatch(schema), f"schema {schema!r} must need no quoting"
    assert EXTENSIONS_SCHEMA not in schemas and EXTENSIONS_SCHEMA != PUBLIC_SCHEMA, (
        "the extensions schema must not double as a mode's schema"
    )


def test_prefixes_are_distinct() -> None:
    prefixes = [m.port_prefix for m in MODES.values()]
    assert len(set(prefixes)) == len(prefixes), "equal prefixes would give two modes one API port"
