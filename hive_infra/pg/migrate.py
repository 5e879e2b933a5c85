"""``migrate --from-legacy``: a legacy install's databases into the stack's.

1. Find the legacy servers (``legacy``), inspect each read-only (tables, rows,
   extensions, server version) and print the plan: for each mode, source
   ``user@host:port/database`` -> the stack's database, tables and rows.
2. Check everything that could refuse (a server that cannot be reached, a mode
   the stack does not deploy, target tables of the same names, a missing
   extension, an old pg_dump) for every mode before acting.
3. With ``--yes`` only: dump every legacy database into a new folder (as
   ``db dump`` does, with a manifest), proving each unchanged (sha256 of its
   per-table counts in the dump's snapshot, and again afterwards), then
   restore each into its mode's stack database (as ``db restore`` does).

``--dump-only`` stops after the dump and needs no stack: the way when
the legacy workspace server holds the port the stack wants (5532); the folder
is then restored with ``db restore`` once the stack is up
(docs/backups-and-migration.md: Migrating a legacy install).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hive_infra.core.errors import CommandError, ExitCode
from hive_infra.core.modes import MODE_NAMES, MODES
from hive_infra.core.names import LEGACY_NAMES
from hive_infra.legacy.containers import DockerFactory, default_docker_factory
from hive_infra.pg import catalog
from hive_infra.pg.checks import TargetFacts, overlap_problems, target_problems
from hive_infra.pg.dump import DEFAULT_OUT, Source, changed_tables, dump_sources
from hive_infra.pg.legacy_servers import LegacySource, find_legacy
from hive_infra.pg.manifest import DatabaseFacts
from hive_infra.pg.restore import Assignment, restore_all, target_facts
from hive_infra.pg.stack_view import StackView, read_stack
from hive_infra.pg.tools import choose_tools

Say = Callable[[str], None]
LEGACY_SOURCE = "legacy install"


@dataclass(frozen=True)
class MigrateOptions:
    from_legacy: bool = False
    env_files: tuple[str, ...] = ()
    stack: str | None = None
    modes: tuple[str, ...] = ()
    out: str = DEFAULT_OUT
    dump_only: bool = False
    replace: bool = False
    tools: str = "auto"
    yes: bool = False


@dataclass(frozen=True)
class Move:
    source: LegacySource
    facts: DatabaseFacts


def _in_place(source: LegacySource, view: StackView) -> bool:
    """The legacy database is the stack's own (a data folder adopted with dataPath,
    or a .env file that ``pulumi up`` rewrote)."""
    return view.databases.get(source.mode) == source.endpoint.database and source.endpoint.same_server(
        view.host, view.port
    )


def _inspect(source: LegacySource) -> DatabaseFacts:
    with catalog.connect(source.endpoint) as conn:
        return catalog.read_facts(conn)


def _plan(options: MigrateOptions, view: StackView | None, say: Say, docker_factory: DockerFactory) -> list[Move]:
    unknown = [m for m in options.modes if m not in MODES]
    if unknown:
        raise CommandError(f"--mode {', '.join(unknown)}: the modes are {', '.join(MODE_NAMES)}")
    install = find_legacy(options.env_files or (".env",), docker_factory)
    for note in install.notes:
        say(f"  note: {note}")
    sources = [s for s in install.sources if not options.modes or s.mode in options.modes]
    if not sources:
        raise CommandError(
            "no legacy PostgreSQL found: name the legacy .env files with --env-file (.env, .env.agent, "
            ".env.genie), or start the legacy containers so that Docker shows them",
            ExitCode.NOTHING,
        )
    problems: list[str] = []
    moves: list[Move] = []
    for source in sources:
        where = f"{source.origin}" + (f", container {source.container}" if source.container else "")
        if view is not None and _in_place(source, view):
            say(
                f"  {source.mode}: {source.endpoint.describe()} ({where}) is the stack's own database already "
                "(an adopted data folder, or a .env file that pulumi up rewrote): nothing to move"
            )
            continue
        if view is not None and source.mode not in view.modes:
            problems.append(
                f"{source.mode}: has legacy data ({source.endpoint.describe()}) but {view.label} does not deploy "
                f"mode {source.mode}; add it to hive:modes and pulumi up, or leave it out with --mode"
            )
            continue
        try:
            facts = _inspect(source)
        except CommandError as exc:
            problems.append(
                f"{source.mode}: the legacy server ({where}) cannot be read: {'; '.join(exc.problems)}. Start it "
                f"(docker start {LEGACY_NAMES.legacy_postgres_container(MODES[source.mode])}), fix --env-file, or "
                "leave the mode out with --mode"
            )
            continue
        target = f"{view.databases[source.mode]}" if view is not None else "the dump folder"
        shared = f" (also {', '.join(source.shared_with)}'s)" if source.shared_with else ""
        say(
            f"  {source.mode}: {source.endpoint.describe()}{shared} ({where}), PostgreSQL {facts.server_version} "
            f"-> {target}: {len(facts.tables)} tables, {facts.rows} rows"
        )
        moves.append(Move(source, facts))
    for mode in install.missing:
        if not options.modes or mode in options.modes:
            say(
                f"  {mode}: no legacy server found (no {MODES[mode].env_file} given, no running container "
                f"{LEGACY_NAMES.legacy_postgres_container(MODES[mode])})"
            )
    if view is not None:
        problems += _target_problems(moves, view, replace=options.replace)
    if problems:
        raise CommandError(problems)
    return moves


def _target_problems(moves: list[Move], view: StackView, *, replace: bool) -> list[str]:
    problems: list[str] = []
    seen: dict[str, TargetFacts] = {}
    for move in moves:
        mode = move.source.mode
        endpoint = view.endpoints[mode].with_database(view.databases[mode])
        target = seen.get(endpoint.database) or target_facts(endpoint)
        seen[endpoint.database] = target
        label = f"legacy {mode} ({move.source.endpoint.database})"
        problems += target_problems(
            label, move.facts.tables, move.facts.extensions, move.facts.server_major, target, replace=replace
        )
    problems += overlap_problems(
        [(f"legacy {m.source.mode}", view.databases[m.source.mode], m.facts.tables) for m in moves]
    )
    return problems


def _check_unchanged(moves: list[Move], say: Say) -> None:
    changed = []
    for move in moves:
        after = _inspect(move.source)
        if after.fingerprint() != move.facts.fingerprint():
            changed.append(f"{move.source.endpoint.describe()}: {', '.join(changed_tables(move.facts, after))}")
    if changed:
        raise CommandError(
            [f"a legacy database changed during the migration (something else writes to it): {c}" for c in changed],
            ExitCode.FAILED,
        )
    say(
        f"migrate: the legacy databases are unchanged (same per-table counts before the dump and now, in "
        f"{len(moves)} database(s))"
    )


def run_migrate(
    options: MigrateOptions, stdout: TextIO, say: Say, docker_factory: DockerFactory = default_docker_factory
) -> int:
    if not options.from_legacy:
        raise CommandError("migrate needs --from-legacy (a legacy install is the only source it knows)")
    view = None if options.dump_only else read_stack(options.stack)
    say("migrate: legacy install -> " + (f"{view.label}, {view.server}" if view else "a dump folder (--dump-only)"))
    moves = _plan(options, view, say, docker_factory)
    if not moves:
        say("migrate: nothing to move")
        return ExitCode.OK
    if not options.yes:
        say(
            "migrate: nothing done. Run again with --yes to dump these databases (only read, never changed) "
            + ("into a folder" if view is None else "and restore them into the stack")
        )
        return ExitCode.OK
    sources = [
        Source(
            (m.source.mode,),
            m.source.endpoint,
            choose_tools(options.tools, m.source.container, f"the legacy server of {m.source.mode}"),
        )
        for m in moves
    ]
    say("migrate: dumping (read-only sessions; counts taken in the dump's own snapshot)")
    folder, manifest = dump_sources(
        sources,
        Path(options.out),
        label="legacy",
        manifest_source=LEGACY_SOURCE,
        isolation=None,
        say=say,
        require_unchanged=True,
    )
    say(f"migrate: dump complete: {folder}")
    if view is None:
        say(
            "migrate: next: stop the legacy containers, pulumi up, then "
            f"`python -m hive_infra db restore {folder}` (docs/backups-and-migration.md: Migrating a legacy install)"
        )
        print(folder, file=stdout)
        return ExitCode.OK
    assignments = [
        Assignment(e, e.modes[0], view.endpoints[e.modes[0]].with_database(view.databases[e.modes[0]]))
        for e in manifest.dumps
    ]
    say(f"migrate: restoring into {view.label}")
    restore_all(folder, assignments, view.tools(options.tools), replace=options.replace, say=say)
    _check_unchanged(moves, say)
    print(folder, file=stdout)
    return ExitCode.OK
