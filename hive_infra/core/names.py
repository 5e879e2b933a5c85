"""Where things are: every Docker name, container path and port, and the one
rule for "this machine's own address".

Plain values and functions of them, no Pulumi. The
components, ``adopt`` and the commands all take their names from here, so a
name is spelt once.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hive_infra.core.modes import Mode

#: Port PostgreSQL listens on inside its container.
POSTGRES_CONTAINER_PORT = 5432
#: Where the PostgreSQL image keeps its data; the legacy compose bind-mounted
#: ``./data/postgres`` here.
DATA_MOUNT = "/var/lib/postgresql/data"
#: PGDATA one level below the mount, as the legacy compose file had it (initdb
#: refuses a mount point that holds lost+found or other files).
PGDATA_SUBDIR = "pgdata"
PGDATA = f"{DATA_MOUNT}/{PGDATA_SUBDIR}"
#: The databases initdb makes besides template0 (which allows no connections).
MAINTENANCE_DATABASES = ("postgres", "template1")
#: The file initdb writes at the top of a cluster folder.
PG_VERSION_FILE = "PG_VERSION"
#: Where the application's image keeps its logs and its own files; the legacy
#: compose files mounted both, and each mode gets a volume for each.
APP_LOGS_MOUNT = "/app/logs"
APP_DATA_MOUNT = "/app/data"

#: Label on every Docker object of a stack: ``<project>/<stack>``.
STACK_LABEL = "org.automagik-hive.pulumi-stack"
#: Name prefix of the legacy install (and the default ``namePrefix``).
LEGACY_PREFIX = "hive"
#: How programs on this machine reach a port published on a loopback or wildcard address.
LOCAL_HOST = "localhost"


@dataclass(frozen=True)
class DockerNames:
    """The Docker names of one stack, all derived from ``namePrefix``."""

    prefix: str

    @property
    def postgres_container(self) -> str:
        return f"{self.prefix}-postgres-shared"

    @property
    def network(self) -> str:
        return f"{self.prefix}-network"

    @property
    def postgres_volume(self) -> str:
        return f"{self.prefix}-postgres-data"

    def api_container(self, mode: Mode) -> str:
        """The legacy compose name of a mode's API container."""
        return f"{self.prefix}-{mode.api_container_suffix}"

    def api_logs_volume(self, mode: Mode) -> str:
        """The volume of a mode's API container mounted at ``APP_LOGS_MOUNT``."""
        return f"{self.prefix}-{mode.name}-logs"

    def api_data_volume(self, mode: Mode) -> str:
        """The volume of a mode's API container mounted at ``APP_DATA_MOUNT``."""
        return f"{self.prefix}-{mode.name}-data"

    def legacy_postgres_container(self, mode: Mode) -> str:
        """The per-mode PostgreSQL container of the legacy layout."""
        return f"{self.prefix}-{mode.legacy_postgres_suffix}"


LEGACY_NAMES = DockerNames(LEGACY_PREFIX)


def stack_label_value(project: str, stack: str) -> str:
    return f"{project}/{stack}"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) names an interface, not an address
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_this_machine(host: str) -> bool:
    """True when ``host`` means this very machine to whoever connects to it.

    The one loopback rule of the project: ``localhost`` in any case, with a
    trailing dot or as a subdomain (``*.localhost`` resolves to loopback),
    every loopback address (127.0.0.0/8, ``::1``, ``::ffff:127.0.0.1``, with or
    without brackets) and the wildcard addresses ``0.0.0.0`` and ``::``, which
    connect to this machine too.
    """
    name = host.strip().lower().rstrip(".")
    if name == LOCAL_HOST or name.endswith("." + LOCAL_HOST):
        return True
    address = _address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def local_host_for(bind_address: str) -> str:
    """The host a program on this machine uses to reach a port published on
    ``bind_address``: ``localhost`` for loopback and wildcard binds, else the
    address itself."""
    return LOCAL_HOST if is_this_machine(bind_address) else bind_address
