"""``db restore``, and the restoring that ``migrate`` shares with it.

Order, so that a refusal changes nothing: the manifest is read (a folder
without one is an incomplete dump); every selected archive's size and sha256
are checked; pg_restore's version is checked against each archive's pg_dump;
every target database is inspected (server major, extensions, schemas,
tables) and every problem is collected (``checks``); only then is anything
restored.

Each archive is restored by ``pg_restore --no-owner --no-acl
--single-transaction`` logged in as the application role of the mode's URL,
so that the objects end owned by that role and one failure rolls the whole
archive back. Entries a non-superuser must not run are left out through a
filtered ``--use-list`` (see ``toc``). Afterwards every table of the manifest
is counted in the target; any difference fails loudly, naming the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hive_infra.core.errors import CommandError, ExitCode
from hive_infra.pg import catalog
from hive_infra.pg.checks import (
    TargetFacts,
    count_differences,
    names,
    overlap_problems,
    restore_tool_problem,
    target_problems,
)
from hive_infra.pg.endpoint import Endpoint
from hive_infra.pg.manifest import DumpEntry, Manifest, checksum_problems, read_manifest
from hive_infra.pg.stack_view import StackView, read_stack
from hive_infra.pg.toc import restore_list
from hive_infra.pg.tools import PgTools

Say = Callable[[str], None]


@dataclass(frozen=True)
class Assignment:
    """One archive and the stack database it goes into."""

    entry: DumpEntry
    #: The mode whose database receives it.
    mode: str
    target: Endpoint = field(repr=False)

    @property
    def label(self) -> str:
        return f"the archive of {self.entry.label()}"


def assign(manifest: Manifest, view: StackView, requested: Sequence[str]) -> tuple[list[Assignment], list[str]]:
    """Each selected archive's target (the database of its first deployed
    mode), and notes on archives that held several modes' rows in one database."""
    assignments: list[Assignment] = []
    notes: list[str] = []
    problems: list[str] = []
    held = {m for e in manifest.dumps for m in e.modes}
    for mode in requested:
        if mode not in held:
            problems.append(f"the dump holds no archive of mode {mode} (it has {', '.join(sorted(held))})")
    for entry in manifest.dumps:
        wanted = [m for m in entry.modes if not requested or m in requested]
        if not wanted:
            continue
        deployed = [m for m in view.modes if m in wanted]
        if not deployed:
            problems.append(
                f"{entry.label()}: {view.label} does not deploy mode {', '.join(wanted)}; add it to hive:modes, "
                "or leave it out with --mode"
            )
            continue
        mode = deployed[0]
        targets = sorted({view.databases[m] for m in deployed})
        if len(targets) > 1:
            notes.append(
                f"{entry.label()} kept the rows of modes {', '.join(entry.modes)} in one database; no tool can "
                f"split them by mode, so it goes into mode {mode}'s database {view.databases[mode]} only, and "
                f"{', '.join(m for m in deployed if m != mode)} start empty"
            )
        assignments.append(Assignment(entry, mode, view.endpoints[mode].with_database(view.databases[mode])))
    if problems:
        raise CommandError(problems)
    return assignments, notes


def target_facts(endpoint: Endpoint) -> TargetFacts:
    with catalog.connect(endpoint) as conn:
        _, major = catalog.server_version(conn)
        return TargetFacts(
            describe=endpoint.describe(),
            database=endpoint.database,
            server_major=major,
            tables=frozenset(catalog.table_names(conn)),
            schemas=frozenset(catalog.schema_names(conn)),
            extensions=catalog.extensions(conn),
        )


def check_restore(
    folder: Path, assignments: Sequence[Assignment], tools: PgTools, *, replace: bool, say: Say
) -> dict[str, TargetFacts]:
    """Every refusal, before anything is written; returns each target's facts by database."""
    problems = checksum_problems(folder, [a.entry for a in assignments])
    if problems:
        raise CommandError(problems)  # a damaged archive: do not even look further
    tool = tools.version("pg_restore")
    say(f"  using {tool.describe()}")
    facts: dict[str, TargetFacts] = {}
    for a in assignments:
        if (problem := restore_tool_problem(tool, a.entry.tool, a.label)) is not None:
            problems.append(problem)
        target = facts.get(a.target.database) or target_facts(a.target)
        facts[a.target.database] = target
        problems += target_problems(
            a.label, a.entry.facts.tables, a.entry.facts.extensions, a.entry.facts.server_major, target, replace=replace
        )
    problems += overlap_problems([(a.label, a.target.database, a.entry.facts.tables) for a in assignments])
    if problems:
        raise CommandError(problems)
    return facts


def restore_one(folder: Path, a: Assignment, target: TargetFacts, tools: PgTools, *, replace: bool, say: Say) -> None:
    archive = folder / a.entry.file
    filtered = restore_list(
        tools.toc(archive),
        dump_schemas=a.entry.facts.schemas,
        existing_schemas=target.schemas,
        extensions=[x.name for x in a.entry.facts.extensions],
    )
    if filtered.skipped:
        say(f"  {a.entry.label()}: left out of the restore: {'; '.join(filtered.skipped)}")
    try:
        tools.restore(a.target, archive, filtered.text, clean=replace)
    except CommandError as exc:
        exc.problems.append(
            f"{a.label} was rolled back (pg_restore runs it in one transaction): {a.target.database} is as it was"
        )
        raise
    with catalog.connect(a.target) as conn:
        counts = catalog.count_rows(conn, [t.key for t in a.entry.facts.tables])
    differences = count_differences(a.entry.facts.tables, counts)
    if differences:
        raise CommandError(
            f"{a.label} was restored into {a.target.describe()} but its row counts differ from the manifest: "
            f"{names(differences)}",
            ExitCode.FAILED,
        )
    say(
        f"  {a.entry.label()} -> {a.target.describe()}: {len(a.entry.facts.tables)} tables, "
        f"{a.entry.facts.rows} rows, every count equal to the manifest's"
    )


def restore_all(folder: Path, assignments: Sequence[Assignment], tools: PgTools, *, replace: bool, say: Say) -> None:
    """Check everything, then restore each archive in its own transaction."""
    facts = check_restore(folder, assignments, tools, replace=replace, say=say)
    done: list[str] = []
    for i, a in enumerate(assignments):
        try:
            restore_one(folder, a, facts[a.target.database], tools, replace=replace, say=say)
        except CommandError as exc:
            rest = [b.entry.label() for b in assignments[i + 1 :]]
            exc.problems.append(
                f"restored before it: {', '.join(done) or 'nothing'}"
                + (f"; not attempted: {', '.join(rest)}" if rest else "")
            )
            exc.code = ExitCode.FAILED
            raise
        done.append(a.entry.label())


@dataclass(frozen=True)
class RestoreOptions:
    folder: str
    stack: str | None = None
    modes: tuple[str, ...] = ()
    replace: bool = False
    tools: str = "auto"


def run_restore(options: RestoreOptions, say: Say) -> int:
    folder = Path(options.folder)
    manifest = read_manifest(folder)
    view = read_stack(options.stack)
    say(f"db restore: {folder} ({manifest.source}, {manifest.created}) -> {view.label}, {view.server}")
    assignments, notes = assign(manifest, view, options.modes)
    for note in notes:
        say(f"  note: {note}")
    restore_all(folder, assignments, view.tools(options.tools), replace=options.replace, say=say)
    say(f"db restore: done, {sum(a.entry.facts.rows for a in assignments)} rows")
    return ExitCode.OK
