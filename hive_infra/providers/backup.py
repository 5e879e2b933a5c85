"""The DataBackup dynamic resource: every mode's database dumped before the stack deletes it.

``pulumi destroy`` does not run the program: the engine deletes what the state
holds, dependents first. This resource depends on every other resource of the
stack (the PostgreSQL container, the database objects, the API containers), so
a destroy deletes it before any of them, and its provider's ``delete`` dumps
each database while the server still runs, with ``db dump``'s own code: one new
folder (0700) under ``folder``, an archive per database, the manifest last, so
``python -m hive_infra db restore <folder>`` brings every row back. A dump that
fails, a stopped server or a disk too full fails the delete, and the destroy
stops before anything else is deleted. The data guard (``protectData``)
depends on this resource in turn, so a protected stack refuses before any dump.

It dumps only when ``enabled`` (``HiveConfig.backup_before_delete``: the
destroy would delete the rows and ``backupOnDestroy`` is on); ``create`` and
``update`` only record the inputs, so turning the backup off is a ``pulumi up``
before the destroy. Backups are never pruned: each destroy leaves a folder.

Like ``hive_infra.providers.envfile``, this module's path is stored in every stack's
state (the provider is pickled by reference), and before the move of issue #21
it was ``hive_infra.backup`` (a shim now, the same module): both paths,
``DataBackupProvider`` and the type ``pulumi-python:dynamic/hive:DataBackup`` are
public names; keep them importable.

Inputs (and outputs): ``enabled`` (bool); ``folder`` (relative to the project
folder, where the provider runs, or absolute); ``container`` (the PostgreSQL
container whose own ``pg_dump`` runs through ``docker exec``, or None: the
local client); ``host``, ``port``, ``user``, ``password`` (secret) and
``sslmode``: the application role's login from this machine; ``databases``
(``[[database, [modes]], ...]``, every mode's, deployed or not: a database a
removed mode left behind is on the server too, and dumped when it is there);
``isolation``; ``stack``; ``envFiles`` (every EnvFile's path: ``delete`` first
checks each can be edited, ``destroy_checks``, so that a destroy finishes or
deletes nothing; a stack deployed before it existed checks the files the stack
file's ``hive:envDir`` places, until an up that changes the backup records it).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

from hive_infra.core.errors import CommandError
from hive_infra.core.modes import MODES
from hive_infra.core.rendering import env_file_path
from hive_infra.pg import catalog
from hive_infra.pg.dump import Source, dump_sources
from hive_infra.pg.endpoint import Endpoint
from hive_infra.pg.tools import DockerExecTools, DockerInspectError, LocalTools, PgTools, inspect_container
from hive_infra.providers import destroy_checks
from hive_infra.providers.recording import RecordingProvider
from hive_infra.providers.wire import has_unknown, plain

#: The id of the one DataBackup of a stack.
BACKUP_ID = "backup"
_INPUTS: tuple[str, ...] = ("enabled", "folder", "container", "host", "port", "user", "password", "sslmode")
_INPUTS += ("databases", "isolation", "stack", "envFiles")
#: Inputs a stack deployed before they existed lacks: no change to report until then.
_LATER_INPUTS = ("envFiles",)
SECRET_OUTPUTS = ["password"]
Say = Callable[[str], None]

#: How the destroy's message tells a user to go on without a backup.
TURN_OFF = (
    "or, to delete the data without a backup: pulumi config set hive:backupOnDestroy false, pulumi up, "
    "then pulumi destroy"
)


class BackupError(Exception):
    """Why the backup before the delete was not taken; no data was deleted. Never holds a secret."""


@dataclass(frozen=True)
class BackupPlan:
    """What the delete dumps, read back from the state."""

    enabled: bool
    folder: str
    container: str | None
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    sslmode: str | None
    #: ``(database, modes)`` pairs.
    databases: tuple[tuple[str, tuple[str, ...]], ...]
    isolation: str | None
    stack: str
    #: The .env files the destroy's EnvFile deletes will edit; None: a state from before they were recorded.
    env_files: tuple[str, ...] | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> BackupPlan:
        values = plain(dict(props))
        return cls(
            enabled=bool(values.get("enabled")),
            folder=str(values.get("folder") or "backups"),
            container=values.get("container") or None,
            host=str(values.get("host") or ""),
            port=int(values.get("port") or 0),
            user=str(values.get("user") or ""),
            password=str(values.get("password") or ""),
            sslmode=values.get("sslmode") or None,
            databases=tuple((str(db), tuple(str(m) for m in modes)) for db, modes in values.get("databases") or ()),
            isolation=values.get("isolation") or None,
            stack=str(values.get("stack") or ""),
            env_files=None if values.get("envFiles") is None else tuple(map(str, values["envFiles"])),
        )

    def endpoint(self, database: str) -> Endpoint:
        return Endpoint(self.host, self.port, self.user, self.password, database, self.sslmode)


def container_problem(container: str, state: str | None, stack: str = "dev") -> str | None:
    """Why the dump cannot run in ``container`` (``state`` from ``docker inspect``, None: no such container)."""
    if state == "running":
        return None
    if state is None:
        return (
            f"the stack's PostgreSQL container {container} is gone, so its data cannot be dumped before the "
            "destroy deletes it; no data was deleted. Bring it back on its kept data volume (make repair "
            f"STACK={stack}) and run the destroy again, {TURN_OFF}"
        )
    return (
        f"the stack's PostgreSQL container {container} is {state}, so its data cannot be dumped before the "
        f"destroy deletes it; no data was deleted. Start it (docker start {container}) and run the destroy "
        f"again, {TURN_OFF}"
    )


def space_problem(needed: int, free: int, folder: Path) -> str | None:
    """Why ``free`` bytes under ``folder`` may not hold a dump of databases of ``needed`` bytes.

    A custom-format dump is compressed and holds no index, so it is smaller than
    the databases; asking for their size leaves a margin without a guess.
    """
    if free >= needed:
        return None
    return (
        f"{folder} has {free // 2**20} MiB free, but the databases to back up take {needed // 2**20} MiB: "
        "the backup before the destroy would not fit, and no data was deleted. Free some space, or point "
        f"hive:backupDir at a larger disk (pulumi config set hive:backupDir /path, then pulumi up), {TURN_OFF}"
    )


def container_state(container: str) -> str | None:
    """``running``, ``exited``, ... of ``container``; None when there is no such container."""
    try:
        return inspect_container(container, "{{.State.Status}}") or None
    except DockerInspectError as exc:
        raise BackupError(f"{exc}; no data was deleted, {TURN_OFF}") from None


def present_databases(plan: BackupPlan) -> list[tuple[str, tuple[str, ...]]]:
    """The plan's databases that exist on the server, with their sizes checked against the disk."""
    names = [db for db, _ in plan.databases]
    rows: list[tuple[str, int]] = []
    last: CommandError | None = None
    for database in names:  # the first one the role can log in to answers for all
        try:
            with catalog.connect(plan.endpoint(database)) as conn:
                rows = [
                    (str(name), int(size))
                    for name, size in conn.execute(
                        "SELECT datname, pg_database_size(oid) FROM pg_catalog.pg_database WHERE datname = ANY(%s)",
                        (names,),
                    ).fetchall()
                ]
            break
        except CommandError as exc:
            last = exc
    else:
        raise BackupError(f"the backup before the destroy cannot log in: {last}; no data was deleted, {TURN_OFF}")
    sizes = dict(rows)
    folder = Path(plan.folder)
    problem = space_problem(sum(sizes.values()), shutil.disk_usage(existing_parent(folder)).free, folder)
    if problem:
        raise BackupError(problem)
    return [(db, modes) for db, modes in plan.databases if db in sizes]


def existing_parent(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (where a new folder's bytes would go)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def take_backup(plan: BackupPlan, say: Say, tools: PgTools | None = None) -> Path | None:
    """Dump every database of ``plan`` that exists into a new folder under ``plan.folder``; return it
    (None when none of them is on the server: nothing to keep).

    Raises ``BackupError`` (nothing written) when any check or dump fails.
    """
    if plan.container is not None:
        problem = container_problem(plan.container, container_state(plan.container), plan.stack)
        if problem:
            raise BackupError(problem)
    databases = present_databases(plan)
    if not databases:
        say(f"backup before destroy: none of {', '.join(db for db, _ in plan.databases)} is on the server")
        return None
    try:
        chosen = tools or (DockerExecTools(plan.container) if plan.container else LocalTools.from_env())
        base = Path(plan.folder)
        if not base.exists():
            base.mkdir(mode=0o700, parents=True)
        sources = [Source(modes, plan.endpoint(db), chosen) for db, modes in databases]
        folder, manifest = dump_sources(
            sources,
            base,
            label=f"hive-{plan.stack}",
            manifest_source=f"stack {plan.stack} (before pulumi destroy)",
            isolation=plan.isolation,
            say=say,
        )
    except (CommandError, OSError) as exc:
        raise BackupError(f"the backup before the destroy failed: {exc}; no data was deleted, {TURN_OFF}") from None
    rows = sum(e.facts.rows for e in manifest.dumps)
    say(
        f"backup before destroy: {len(manifest.dumps)} database(s), {rows} rows in {folder.absolute()} "
        f"(restore: python -m hive_infra db restore {folder} --stack {plan.stack})"
    )
    return folder


def check_later_steps(plan: BackupPlan, config: Mapping[str, Any]) -> None:
    """Refuse (``BackupError``, nothing deleted) unless each .env file the destroy will edit can be edited.

    A state from before ``envFiles`` was recorded: each mode's file under the
    stack file's ``hive:envDir``, as the program would have placed it.
    """
    paths = plan.env_files
    if paths is None:
        env_dir = config.get(destroy_checks.ENV_DIR_KEY)
        env_dir = env_dir if isinstance(env_dir, str) else "."
        paths = tuple(env_file_path(env_dir, MODES[m]) for _, modes in plan.databases for m in modes if m in MODES)
    problems = destroy_checks.env_file_problems(paths)
    if problems:
        raise BackupError(
            f"the destroy could not finish: {'; '.join(problems)}. Nothing was deleted: fix the file (or its "
            "folder), then run the destroy again"
        )


def _say(line: str) -> None:
    # Seen under the real engine: shown in the destroy's output and its Diagnostics.
    pulumi.log.info(line)


class DataBackupProvider(RecordingProvider):
    """Records the inputs; dumps the data in ``delete``. See the module's docstring."""

    RESOURCE_ID = BACKUP_ID
    INPUTS = _INPUTS
    LATER_INPUTS = _LATER_INPUTS

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs = {k: news.get(k) for k in _INPUTS}
        failures = []
        folder = plain(inputs["folder"])
        if not has_unknown(folder) and (not isinstance(folder, str) or not folder or "\0" in folder):
            failures.append(pulumi.dynamic.CheckFailure("folder", "folder must be a non-empty path"))
        return pulumi.dynamic.CheckResult(inputs, failures)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        plan = BackupPlan.from_props(props)
        config = destroy_checks.stack_config(plan.stack)
        check_later_steps(plan, config)
        if plan.enabled:
            take_backup(plan, _say)
            note = destroy_checks.folder_note(plan.folder, plan.stack, config)
            if note:
                pulumi.log.warn(note)


@dataclass(frozen=True)
class DataBackupArgs:
    enabled: bool
    folder: str
    container: pulumi.Input[str] | None
    host: str
    port: int
    user: str
    password: pulumi.Input[str] = field(repr=False)
    sslmode: str | None
    #: ``{database: modes}``, every mode's database (see the module's docstring).
    databases: Mapping[str, Sequence[str]]
    isolation: str
    stack: str
    #: Every EnvFile's path: the destroy checks it can edit them before it deletes anything.
    env_files: Sequence[str] = ()


class DataBackup(pulumi.dynamic.Resource, module="hive", name="DataBackup"):
    """See the module's docstring."""

    enabled: pulumi.Output[bool]
    folder: pulumi.Output[str]

    def __init__(self, name: str, args: DataBackupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "enabled": args.enabled,
            "folder": args.folder,
            "container": args.container,
            "host": args.host,
            "port": args.port,
            "user": args.user,
            "password": pulumi.Output.secret(args.password),
            "sslmode": args.sslmode,
            "databases": [[db, list(modes)] for db, modes in args.databases.items()],
            "isolation": args.isolation,
            "stack": args.stack,
            "envFiles": list(args.env_files),
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(DataBackupProvider(), name, props, opts)
