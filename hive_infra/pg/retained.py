"""The databases the stack's own server holds already, read when the program runs.

A mode removed from ``hive:modes`` leaves its database on the server with its
rows (database objects are retained on delete) and out of the stack's state.
Added back, the stack would ``CREATE DATABASE`` it and fail ("already exists").
So the program asks the server which databases it has, and a mode's database
found there is declared with Pulumi's ``import_`` option: the engine reads it
into the state instead of creating it, rows and all. For a database already in
the state under the same id the option is a no-op (Pulumi's import semantics:
docs/architecture.md, "A mode that comes back").

The question runs ``psql`` inside the stack's PostgreSQL container as the
admin over the socket (trusted there, as every postgres image sets it up),
read-only, and only when the container carries this stack's label. When it
cannot be answered (no container yet, a stopped one, no docker) nothing is
imported: the program goes on as before; on a first ``up`` there is nothing
to find.
"""

from __future__ import annotations

import subprocess

from hive_infra.core.names import STACK_LABEL
from hive_infra.pg.tools import DockerInspectError, docker_command, inspect_container

TIMEOUT_SECONDS = 30
_QUERY = "SELECT datname FROM pg_catalog.pg_database WHERE NOT datistemplate"


def server_databases(container: str, admin_user: str, stack_label: str) -> frozenset[str]:
    """The names of the databases on the server in ``container``; empty when it cannot tell, or
    when the container is not this stack's (its ``STACK_LABEL`` is not ``stack_label``)."""
    try:
        if inspect_container(container, f'{{{{index .Config.Labels "{STACK_LABEL}"}}}}') != stack_label:
            return frozenset()  # none, or another stack's container of the same name: nothing of ours
    except DockerInspectError:
        return frozenset()
    try:
        done = subprocess.run(
            [docker_command(), "exec", container, "psql", "-U", admin_user, "-d", "postgres", "-XAtc", _QUERY],
            capture_output=True, text=True, timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except Exception:  # noqa: BLE001  # no docker, a timeout: nothing to take over, never a failure
        return frozenset()
    if done.returncode != 0:
        return frozenset()
    return frozenset(line for line in done.stdout.splitlines() if line)
