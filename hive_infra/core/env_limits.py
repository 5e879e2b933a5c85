"""What a container's environment can hold: the checks of a user's .env values.

Pure functions of strings. An API container gets every
key of the user's .env files (``machine.user_env``); Docker refuses a value holding
NUL ("environment variable value can't contain null": the old container is
already deleted by then), and the kernel's ``execve`` refuses an environment
past its limits ("argument list too long": the container crash-loops). So
each value is checked when the program runs, before any resource changes.

The kernel's limits (fs/exec.c, include/uapi/linux/binfmts.h): each string,
``KEY=value`` and its terminating NUL, is at most ``MAX_ARG_STRLEN`` (32 pages
of 4 KiB); all of argv and envp together, each string with its NUL and its
pointer, must fit in ``ARG_MAX`` (a quarter of the 8 MiB stack limit Docker's
containers get by default: 2 MiB). The user's keys get that budget less a
margin for the stack's own keys, the image's ``ENV`` and the command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Bytes of one ``KEY=value`` string, its NUL included (MAX_ARG_STRLEN).
MAX_ARG_STRLEN = 131072
#: Bytes of argv and envp together (``getconf ARG_MAX`` with an 8 MiB stack).
ARG_MAX = 2 * 1024 * 1024
#: Left for the stack's own keys (under 1 KiB), the image's ENV and the command line.
MARGIN = 256 * 1024
#: Bytes the user's keys may take together: each string, its NUL and its pointer.
USER_ENV_BUDGET = ARG_MAX - MARGIN
_POINTER = 8

#: C0 control characters but TAB and LF (a multi-line value, such as a PEM key, is fine), and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def string_size(key: str, value: str) -> int:
    """Bytes ``KEY=value`` takes in ``execve``'s environment, its NUL included."""
    return len(f"{key}={value}".encode("utf-8", "surrogateescape")) + 1


def value_problem(key: str, value: str) -> str | None:
    """Why ``value`` cannot reach a container as ``key``, or None. Never quotes the value."""
    bad = _CONTROL.search(value)
    if bad is not None:
        char = bad.group()
        name = "a NUL byte" if char == "\0" else f"the control character U+{ord(char):04X}"
        return (
            f"the value of {key} holds {name}, which Docker cannot pass to a container (or the app would "
            f"read it wrong); remove it from the value"
        )
    size = string_size(key, value)
    if size > MAX_ARG_STRLEN:
        return (
            f"{key}=... takes {size} bytes, past the {MAX_ARG_STRLEN} bytes the kernel's execve accepts "
            f"for one environment string (the API would not start: 'argument list too long'); keep the value "
            f"in a file and put its path in {key} instead"
        )
    return None


def total_problem(values: Mapping[str, str]) -> str | None:
    """Why the user's keys together are too large for one container's environment, or None."""
    total = sum(string_size(key, value) + _POINTER for key, value in values.items())
    if total <= USER_ENV_BUDGET:
        return None
    largest = sorted(values, key=lambda k: string_size(k, values[k]), reverse=True)[:3]
    return (
        f"the keys a container gets from these files take {total} bytes together, past the {USER_ENV_BUDGET} "
        f"bytes left of the kernel's {ARG_MAX}-byte ARG_MAX once the stack's own keys are in (the API would "
        f"not start: 'argument list too long'); the largest are {', '.join(largest)}: move large values into "
        "files and put their paths in the keys instead"
    )
