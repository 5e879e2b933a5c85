"""The one port function: a mode's ports from the stack's base ports."""

from __future__ import annotations

from dataclasses import dataclass

from hive_infra.core.modes import Mode

MIN_PORT = 1
MAX_PORT = 65535


@dataclass(frozen=True)
class ModePorts:
    """The host ports one mode uses."""

    db: int
    api: int


def mode_ports(mode: Mode, db_port: int, api_port: int) -> ModePorts:
    """Return ``mode``'s ports.

    Every mode shares the base database port (one PostgreSQL for all); the API
    port is the mode's prefix digit written in front of the base API port, so
    8886 gives workspace 8886, agent 38886 and genie 48886. The result is not
    range-checked here: :func:`port_in_range` is the test, and config
    validation reports a derived port that falls outside it.
    """
    return ModePorts(db=db_port, api=int(f"{mode.port_prefix}{api_port}"))


def port_in_range(port: int) -> bool:
    return MIN_PORT <= port <= MAX_PORT
