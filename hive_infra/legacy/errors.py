"""What ``adopt`` says when it cannot go on: its error and its exit codes."""

from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NOTHING = 3


class AdoptError(Exception):
    """Input that cannot be adopted; ``problems`` never hold a secret."""

    def __init__(self, problems: Sequence[str] | str, code: int = EXIT_BAD_INPUT) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        self.code = code
        super().__init__("\n".join(self.problems))
