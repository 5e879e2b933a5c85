"""The mode table: everything that differs between hive's modes, as plain data.

No imports beyond the standard library, no behaviour.
Every other module looks a mode up here instead of spelling its values again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Mode:
    """One way of running hive, with the names and numbers that belong to it."""

    name: str
    #: Digit written in front of the base API port ("" keeps the base port).
    port_prefix: str
    #: PostgreSQL schema the mode's tables live in.
    schema: str
    #: File name of the mode's .env file, relative to ``envDir``.
    env_file: str
    #: Suffix of the legacy API container name (``<namePrefix>-<suffix>``).
    api_container_suffix: str
    #: Suffix of the legacy per-mode PostgreSQL container (``hive-<suffix>``).
    legacy_postgres_suffix: str
    #: Appended to the base database name for the mode's own database, as the
    #: legacy installs named them (``hive``, ``hive_agent``, ``hive_genie``).
    database_suffix: str

    @property
    def uses_public_schema(self) -> bool:
        return self.schema == PUBLIC_SCHEMA


PUBLIC_SCHEMA = "public"
#: Schema that holds the configured extensions in the one-database layout
#: (``isolation=schema``), on every mode's search_path.
EXTENSIONS_SCHEMA = "extensions"

MODES: Mapping[str, Mode] = MappingProxyType(
    {
        "workspace": Mode("workspace", "", PUBLIC_SCHEMA, ".env", "agents", "postgres", ""),
        "agent": Mode("agent", "3", "agent", ".env.agent", "agent-dev-server", "postgres-agent", "_agent"),
        "genie": Mode("genie", "4", "genie", ".env.genie", "genie-server", "postgres-genie", "_genie"),
    }
)

#: Modes in their canonical order (the order of the table above).
MODE_NAMES: tuple[str, ...] = tuple(MODES)
