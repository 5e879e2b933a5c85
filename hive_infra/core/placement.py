"""Where each mode's data lives: its database, its schema and its search_path.

Plain values, no Pulumi. Two layouts, chosen by
``hive:isolation``:

``database`` (the default)
    One database per mode in the shared server, named as the legacy installs
    named them: workspace ``<database>``, agent ``<database>_agent``, genie
    ``<database>_genie``. The application names its own schemas (``hive``,
    ``agno``, ``ai``), so only separate databases keep the modes' rows apart.
    Extensions live in each database's ``public`` schema, where the legacy
    installs had them (a legacy dump names ``public.vector``); agent and genie
    search ``<mode>, public``.
``schema``
    The seed's layout: one database, a schema per mode (workspace ``public``),
    the extensions in a separate ``extensions`` schema every mode searches.
    The application's schema-qualified tables are then shared by every mode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from hive_infra.core.modes import EXTENSIONS_SCHEMA, MODES, PUBLIC_SCHEMA, Mode

DATABASE_ISOLATION = "database"
SCHEMA_ISOLATION = "schema"
ISOLATIONS = (DATABASE_ISOLATION, SCHEMA_ISOLATION)

#: ``hive:postgresMode``: the stack's own PostgreSQL container, or a server elsewhere.
CONTAINER_MODE = "container"
EXTERNAL_MODE = "external"
POSTGRES_MODES = (CONTAINER_MODE, EXTERNAL_MODE)


@dataclass(frozen=True)
class Placement:
    """One mode's place in the server."""

    mode: Mode
    database: str
    #: Where the configured extensions (and so their types) live in that database.
    extensions_schema: str

    @property
    def schema(self) -> str:
        return self.mode.schema

    @property
    def search_path(self) -> tuple[str, ...]:
        """The schemas the mode resolves unqualified names in, in order."""
        return tuple(dict.fromkeys((self.schema, self.extensions_schema)))

    @property
    def url_search_path(self) -> tuple[str, ...] | None:
        """The search_path a URL must name; None where the role's default
        (``role_search_path``) already is the mode's (workspace, in public)."""
        return None if self.mode.uses_public_schema else self.search_path


def database_name(base: str, mode: Mode, isolation: str) -> str:
    """The database ``mode`` uses: its own in ``database`` isolation, else ``base``."""
    return base + mode.database_suffix if isolation == DATABASE_ISOLATION else base


def extensions_schema(isolation: str) -> str:
    return PUBLIC_SCHEMA if isolation == DATABASE_ISOLATION else EXTENSIONS_SCHEMA


def place(mode: Mode, base: str, isolation: str) -> Placement:
    return Placement(mode, database_name(base, mode, isolation), extensions_schema(isolation))


def every_database(base: str, isolation: str) -> dict[str, tuple[str, ...]]:
    """``{database: modes}`` of every mode, deployed or not, in canonical order: a
    mode removed from ``modes`` leaves its database (with its rows) on the server."""
    grouped: dict[str, list[str]] = {}
    for mode in MODES.values():
        grouped.setdefault(database_name(base, mode, isolation), []).append(mode.name)
    return {database: tuple(modes) for database, modes in grouped.items()}


def role_search_path(isolation: str) -> tuple[str, ...]:
    """The app role's default search_path: what a URL without options gets."""
    return tuple(dict.fromkeys((PUBLIC_SCHEMA, extensions_schema(isolation))))


@dataclass(frozen=True)
class DatabasePlan:
    """One database the stack manages objects in, and what goes into it."""

    name: str
    #: Suffix of its resources' names: "" for the base database (so its
    #: resources keep the names, and URNs, they always had), else ``-<mode>``.
    key: str
    #: The modes' own schemas to create (never ``public``).
    schemas: tuple[str, ...]
    extensions_schema: str
    #: The database exists already (an adopted install): never created or dropped.
    existing: bool = False

    @property
    def declares_extensions_schema(self) -> bool:
        """``public`` exists in every database and is never declared (a destroy would drop it)."""
        return self.extensions_schema != PUBLIC_SCHEMA


def database_plans(placements: Sequence[Placement], base: str, base_exists: bool = False) -> tuple[DatabasePlan, ...]:
    """The databases of ``placements``, in the order the modes come."""
    plans: dict[str, DatabasePlan] = {}
    for p in placements:
        plan = plans.get(p.database) or DatabasePlan(
            name=p.database,
            key="" if p.database == base else f"-{p.mode.name}",
            schemas=(),
            extensions_schema=p.extensions_schema,
            existing=base_exists and p.database == base,
        )
        own = () if p.mode.uses_public_schema else (p.schema,)
        plans[p.database] = dataclasses.replace(plan, schemas=plan.schemas + own)
    return tuple(plans.values())
