"""pg_restore's table of contents (``pg_restore -l``), filtered for a restore
as the stack's application role. Pure text in, text out.

A line reads ``<dumpId>; <catalog oid> <object oid> <DESC> <schema> <name> <owner>``
(``-`` where there is no schema). Restoring with ``--no-owner --no-acl`` as the
application role, which owns the target database but is no superuser, three
kinds of entry must not run:

* ``EXTENSION``: the stack created the extension in the target database
  already, as its admin; the checks (``checks.extension_problems``) made sure
  it is there, in the schema the dump's types name (``public.citext``,
  ``public.vector``). pg_dump writes ``CREATE EXTENSION IF NOT EXISTS``, which
  would pass, but with ``--clean`` the same entry issues ``DROP EXTENSION IF
  EXISTS``, which only the owner may run (and which would take the stack's
  extension away); and a missing untrusted extension (pgvector) cannot be
  created by the role anyway.
* ``COMMENT - EXTENSION``: ``COMMENT ON EXTENSION`` needs the extension's
  owner: "must be owner of extension citext" would fail the whole restore
  (it runs in one transaction).
* ``SCHEMA`` of a schema the target already has (the stack's ``agent`` and
  ``genie``, ``public``, the ``extensions`` schema, or ``ai`` created by an
  application that already started): ``CREATE SCHEMA`` has no ``IF NOT
  EXISTS`` in a dump, and with ``--clean`` the ``DROP SCHEMA`` would fail on a
  schema holding other tables, or drop one the stack owns. Its tables are
  restored into the existing schema. Schemas the target lacks are created,
  owned by the role.

A schema entry is recognised by its object oid, which the manifest maps to
the schema's name (recorded from the source's catalog in the dump's snapshot),
so names with spaces cannot be misread.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

_ENTRY = re.compile(r"^(\d+); (\d+) (\d+) (.*)$")


@dataclass(frozen=True)
class Filtered:
    """The list to give ``pg_restore -L`` and what was left out of it, and why."""

    text: str
    skipped: tuple[str, ...]


def restore_list(
    toc: str, *, dump_schemas: Mapping[int, str], existing_schemas: Collection[str], extensions: Collection[str]
) -> Filtered:
    """``toc`` without the entries a non-superuser restore must not run (see the module)."""
    kept: list[str] = []
    skipped: list[str] = []
    for line in toc.splitlines():
        match = _ENTRY.match(line)
        if match is None:  # comments and blank lines
            kept.append(line)
            continue
        oid, rest = int(match.group(3)), match.group(4)
        schema = dump_schemas.get(oid) if rest.startswith("SCHEMA - ") else None
        if rest.startswith("EXTENSION - "):
            skipped.append(f"CREATE EXTENSION {_name_after(rest, 'EXTENSION - ', extensions)} (the stack made it)")
        elif rest.startswith("COMMENT - EXTENSION "):
            skipped.append(f"COMMENT ON EXTENSION {_name_after(rest, 'COMMENT - EXTENSION ', extensions)}")
        elif schema is not None and schema in existing_schemas:
            skipped.append(f"CREATE SCHEMA {schema} (the target has it)")
        else:
            kept.append(line)
    return Filtered("\n".join(kept) + "\n", tuple(skipped))


def _name_after(rest: str, prefix: str, names: Collection[str]) -> str:
    """The extension named in ``rest`` after ``prefix``: a known name if one fits."""
    tail = rest[len(prefix) :]
    for name in sorted(names, key=len, reverse=True):
        if tail == name or tail.startswith(name + " "):
            return name
    return tail.split(" ", 1)[0]


def entries(toc: str) -> list[str]:
    """The entry lines of a list (no comments)."""
    return [line for line in toc.splitlines() if _ENTRY.match(line)]
