"""A legacy install's PostgreSQL servers, one per mode, found from its .env
files (read as ``adopt`` reads them) and from Docker when it answers.

* A mode's file (``.env`` workspace, ``.env.agent``, ``.env.genie``) gives
  host, port, user, password and database.
* A running legacy container (``hive-postgres``, ``hive-postgres-agent``,
  ``hive-postgres-genie``) gives a published port for a mode that has no file,
  logged in with the user and password the other files share (one login for
  every mode in the legacy installs) and the legacy database name; and, when
  it publishes a file's port, the container to ``docker exec`` pg_dump in.
* Two modes naming one database on one server (an install that ran the
  seed's single shared database: ``LegacyFile.shares_the_base_database``)
  yield one source, for the first of them (workspace): the rows of several
  modes mixed in ``hive.*``/``agno.*`` cannot be split by machine.

Every session on a legacy server is read-only (``default_transaction_read_only``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hive_infra.core.errors import CommandError
from hive_infra.core.modes import MODES, Mode
from hive_infra.core.names import LEGACY_NAMES, LOCAL_HOST, POSTGRES_CONTAINER_PORT, is_this_machine
from hive_infra.core.rendering import LIBPQ_DEFAULT_PORT
from hive_infra.legacy.containers import ContainerInfo, DockerFactory, default_docker_factory, list_containers
from hive_infra.legacy.env_files import LegacyFile, inspect_files
from hive_infra.pg.endpoint import Endpoint

LEGACY_BASE_DATABASE = "hive"
RUNNING = "running"


@dataclass(frozen=True)
class LegacySource:
    """One legacy database, and the mode whose stack database it goes into."""

    mode: str
    endpoint: Endpoint = field(repr=False)
    #: Where it was found: ``.env.agent``, ``container hive-postgres-agent``.
    origin: str
    #: A running container serving it, for ``docker exec``.
    container: str | None = None
    #: Other modes that named this very database (the seed's shared layout).
    shared_with: tuple[str, ...] = ()


@dataclass
class LegacyInstall:
    sources: list[LegacySource]
    #: Lines to show: what was found, what was merged, why a mode has no source.
    notes: list[str]
    #: Modes for which nothing was found.
    missing: list[str]


def _legacy_container(containers: Sequence[ContainerInfo], mode: Mode) -> ContainerInfo | None:
    name = LEGACY_NAMES.legacy_postgres_container(mode)
    return next((c for c in containers if c.name == name and c.status == RUNNING), None)


def _postgres_ports(container: ContainerInfo) -> list[int]:
    """The host ports a container publishes its PostgreSQL port (5432/tcp) on."""
    suffix = f"->{POSTGRES_CONTAINER_PORT}/tcp"
    return list(dict.fromkeys(port for port, text in container.ports if text.endswith(suffix)))


def _serving(containers: Sequence[ContainerInfo], endpoint: Endpoint) -> str | None:
    """The running legacy PostgreSQL container publishing ``endpoint``'s port here, if any."""
    if not is_this_machine(endpoint.host):
        return None
    for mode in MODES.values():
        found = _legacy_container(containers, mode)
        if found is not None and endpoint.port in _postgres_ports(found):
            return found.name
    return None


def _file_endpoint(file: LegacyFile, mode: Mode, base: str) -> Endpoint:
    assert file.user is not None and file.password is not None
    port = int(file.port.value) if file.port is not None else LIBPQ_DEFAULT_PORT
    database = file.database.value if file.database is not None else base + mode.database_suffix
    return Endpoint(file.host or LOCAL_HOST, port, file.user.value, file.password.value, database, read_only=True)


def find_legacy(env_files: Sequence[str], docker_factory: DockerFactory = default_docker_factory) -> LegacyInstall:
    """Every legacy database, at most one per mode (see the module)."""
    try:
        files = inspect_files(env_files)
    except CommandError as exc:
        raise CommandError(exc.problems) from None
    notes: list[str] = [w for f in files for w in f.warnings]
    containers = list_containers(docker_factory)
    if isinstance(containers, str):
        notes.append(f"{containers}: legacy servers only from the .env files, pg_dump from this machine")
        containers = []
    found, missing = _sources_by_mode(files, containers, notes)
    return LegacyInstall(_one_per_database(found, notes), notes, missing)


def _sources_by_mode(
    files: Sequence[LegacyFile], containers: Sequence[ContainerInfo], notes: list[str]
) -> tuple[list[LegacySource], list[str]]:
    """Each mode's source: its .env file's database, else a running legacy container's."""
    with_login = [f for f in files if f.has_credentials]
    # One login for every mode in the legacy installs: the workspace file's, else the first.
    login = next((f for f in with_login if f.mode is MODES["workspace"]), with_login[0] if with_login else None)
    workspace_db = next((f.base_database for f in files if f.base_database is not None), None)
    base = workspace_db.value if workspace_db is not None else LEGACY_BASE_DATABASE
    found: list[LegacySource] = []
    missing: list[str] = []
    for mode in MODES.values():
        file = next((f for f in with_login if f.mode is mode), None)
        container = _legacy_container(containers, mode)
        if file is not None:
            endpoint = _file_endpoint(file, mode, base)
            owner = mode.name
            if file.shares_the_base_database and not any(s.mode == "workspace" for s in found):
                owner = "workspace"
                notes.append(
                    f"{file.label} names database {endpoint.database}, the workspace's, not its own "
                    f"{base + mode.database_suffix}: an install of the seed's single shared database; "
                    f"it moves to mode workspace only"
                )
            found.append(LegacySource(owner, endpoint, file.label, _serving(containers, endpoint)))
        elif container is not None and _postgres_ports(container) and login is not None:
            assert login.user is not None and login.password is not None
            port = _postgres_ports(container)[0]
            endpoint = Endpoint(
                LOCAL_HOST, port, login.user.value, login.password.value, base + mode.database_suffix, read_only=True
            )
            found.append(LegacySource(mode.name, endpoint, f"container {container.name}", container.name))
            notes.append(
                f"{mode.name}: no .env file given; found container {container.name} on port {port}, "
                f"logging in as {login.user.value} (from {login.label}) to database {endpoint.database}"
            )
        else:
            missing.append(mode.name)
    return found, missing


def _one_per_database(found: Sequence[LegacySource], notes: list[str]) -> list[LegacySource]:
    """Modes naming one database on one server (the seed's layout) move to the first of them only."""
    sources: list[LegacySource] = []
    for source in found:
        endpoint = source.endpoint
        same = next(
            (
                s
                for s in sources
                if s.endpoint.database == endpoint.database and s.endpoint.same_server(endpoint.host, endpoint.port)
            ),
            None,
        )
        if same is None:
            sources.append(source)
            continue
        sources[sources.index(same)] = LegacySource(
            same.mode, same.endpoint, same.origin, same.container, (*same.shared_with, source.mode)
        )
        notes.append(
            f"{source.mode} ({source.origin}) names the same database as {same.mode}: "
            f"{endpoint.database} on {endpoint.address}. This install kept several modes' rows in "
            f"one database (the seed's layout), which no tool can split by mode: it moves to mode {same.mode} "
            f"only, and {source.mode} starts on an empty database"
        )
    return sources
