"""The one error the commands report, and their exit codes, declared once.

Every command (``python -m hive_infra ...``) ends with one of ``ExitCode``; what
stops it is a ``CommandError``: one or more problems, each a full sentence
saying what to do (never a secret), the code to exit with, and whether nothing
was changed before it stopped. ``hive_infra/__main__.py`` prints it. The legacy
readers (``hive_infra.legacy``) and the data tools (``hive_infra.pg``) raise it
too, so a command prints their problems as they are.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class ExitCode(enum.IntEnum):
    OK = 0
    #: Something failed while acting or checking (a tool failed, a check FAILed, the outputs unreadable).
    FAILED = 1
    #: Refused before changing anything: bad input or usage, a conflict, a bad checksum, an old client.
    REFUSED = 2
    #: Nothing to do (no legacy install or server found).
    NOTHING = 3


class CommandError(Exception):
    """Problems that stop a command, and its exit code; ``problems`` never hold a secret."""

    def __init__(
        self, problems: str | Iterable[str], code: ExitCode = ExitCode.REFUSED, *, unchanged: bool | None = None
    ) -> None:
        #: A list: a caller that knows more (what was rolled back, what is left) appends to it.
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        self.code = ExitCode(code)
        #: Nothing was changed before the command stopped: true of a refusal or of nothing to do,
        #: and of a failure only when the raiser says so.
        self.unchanged = code != ExitCode.FAILED if unchanged is None else unchanged
        super().__init__("; ".join(self.problems))
