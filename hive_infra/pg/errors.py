"""The one exception of the ``db`` and ``migrate`` commands, and their exit codes."""

from __future__ import annotations

from collections.abc import Iterable

EXIT_OK = 0
#: Something failed while acting (a tool failed, row counts differ after a restore).
EXIT_FAILED = 1
#: Refused before changing anything (bad input, a conflict, a bad checksum, an old client, ...).
EXIT_REFUSED = 2
#: Nothing to do (no legacy server found).
EXIT_NOTHING = 3


class DbError(Exception):
    """One or more problems, each a full sentence saying what to do; never a secret."""

    def __init__(self, problems: str | Iterable[str], code: int = EXIT_REFUSED) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.code = code
        super().__init__("; ".join(self.problems))
