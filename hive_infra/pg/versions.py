"""PostgreSQL major versions of servers and client programs. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class ToolVersion:
    """A client program as it answered ``--version``, and where it runs."""

    program: str
    #: Its first line, e.g. ``pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)``.
    text: str
    major: int
    #: ``local /usr/lib/postgresql/16/bin`` or ``docker exec hive-postgres-shared``.
    where: str

    def describe(self) -> str:
        return f"{self.text} ({self.where})"


def parse_tool_version(program: str, output: str, where: str) -> ToolVersion | None:
    """``pg_dump --version``'s answer, or None if it is not a PostgreSQL program's."""
    first = (output.strip().splitlines() or [""])[0].strip()
    match = _VERSION.search(first)
    if match is None:
        return None
    return ToolVersion(program, first, int(match.group(1)), where)


def server_major(version_num: int) -> int:
    """``server_version_num`` (150018) to its major (15); 9.6 gives 9."""
    return version_num // 10000
