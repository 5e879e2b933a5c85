"""The user's own keys in the .env files, read when the program runs.

The API containers get what the legacy compose files gave them with
``env_file``: every key of the workspace ``.env`` (where model-provider keys
such as ``OPENAI_API_KEY`` live), overridden by the mode's own file. This is
the program's one read of the machine: the files are read while ``pulumi
preview``/``up`` builds the resources, through ``safe_file.read_text`` (a
symbolic link, a directory or non-UTF-8 text is refused) and python-dotenv's
parser (``dotenv_text.parse``, which refuses what python-dotenv cannot parse).
A value no container can take (a NUL or another control character, a value or
a whole environment past the kernel's ``execve`` limits: ``env_limits``) is
refused too, naming the file, the line and the fix, before any resource changes.

A missing file holds no keys (the first ``up`` writes it). Values are taken as
python-dotenv reads them, without ``${VAR}`` expansion, so they never depend on
the environment of whoever runs ``pulumi``. Which keys win over which is
``rendering.container_env``'s rule; this module only reads. Values are secrets
(model keys): they are never logged, and an error names the file, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dotenv.parser import Binding

from hive_infra.core import env_limits
from hive_infra.core.dotenv_text import DotenvSyntaxError, parse, statement_line
from hive_infra.core.modes import MODES, Mode
from hive_infra.core.rendering import env_file_path
from hive_infra.machine import safe_file
from hive_infra.machine.safe_file import UnsafeFileError

#: The mode whose file holds the keys every mode gets (the legacy main .env).
SHARED_MODE = MODES["workspace"]


#: How every refusal ends: the program stopped before any resource changed.
REFUSED = "; nothing was changed: fix the file and run again"


class UserEnvError(Exception):
    """A .env file that cannot be read; the message names the file and the fix, never a value.

    The program raises it to Pulumi as a ``pulumi.RunError`` of the same message (no traceback)."""


@dataclass(frozen=True)
class UserEnv:
    """Each mode's layers of user keys, lowest first: the workspace file, then the mode's own."""

    layers: Mapping[str, tuple[Mapping[str, str], ...]] = field(default_factory=dict, repr=False)

    def of(self, mode: str) -> tuple[Mapping[str, str], ...]:
        return self.layers.get(mode, ())

    def __repr__(self) -> str:  # keys only: values are secrets
        return f"UserEnv({ {m: [sorted(layer) for layer in layers] for m, layers in self.layers.items()} })"


def _value_problems(where: str, bindings: Sequence[Binding]) -> list[str]:
    """Each value of ``bindings`` no container can take, naming its line (``env_limits``)."""
    problems = []
    for binding in bindings:
        if binding.key is None or binding.value is None:
            continue
        problem = env_limits.value_problem(binding.key, binding.value)
        if problem:
            problems.append(f"{where}, line {statement_line(binding)}: {problem}")
    return problems


def _read(path: str) -> dict[str, str]:
    """``read_values``, raising every problem of the file at once."""
    where = safe_file.absolute(path)
    try:
        text = safe_file.read_text(path)
        if text is None:
            return {}
        bindings = parse(text, where)
    except (UnsafeFileError, DotenvSyntaxError) as exc:
        raise UserEnvError(f"cannot read the keys the API containers get from it: {exc}") from None
    problems = _value_problems(where, bindings)
    if problems:
        raise UserEnvError("; ".join(problems))
    # A bare `KEY` line binds no value: python-dotenv gives None, and so it sets nothing.
    return {b.key: b.value for b in bindings if b.key is not None and b.value is not None}


def read_values(path: str) -> dict[str, str]:
    """The keys a .env file binds to a value (the last binding of a key wins, as
    in python-dotenv); ``{}`` when the file does not exist. A file or a value
    no API container could take is refused (``UserEnvError``), naming the file,
    the line and the fix."""
    try:
        return _read(path)
    except UserEnvError as exc:
        raise UserEnvError(f"{exc}{REFUSED}") from None


def read_user_env(env_dir: str, modes: Sequence[Mode]) -> UserEnv:
    """Each mode's layers, read from ``envDir`` (relative to the working
    directory, the project folder under ``pulumi``, as ``EnvFile`` resolves it).

    Every problem of every file is reported together, before any resource
    exists: preview and up refuse, and no container is replaced.
    """
    cache: dict[str, dict[str, str]] = {}
    problems: list[str] = []

    def values(mode: Mode) -> dict[str, str]:
        path = env_file_path(env_dir, mode)
        if path not in cache:
            try:
                cache[path] = _read(path)
            except UserEnvError as exc:
                cache[path] = {}
                problems.append(str(exc))
        return cache[path]

    layers: dict[str, tuple[Mapping[str, str], ...]] = {}
    for mode in modes:
        shared, own = values(SHARED_MODE), values(mode)
        layers[mode.name] = (shared,) if mode == SHARED_MODE else (shared, own)
        files = {env_file_path(env_dir, m) for m in (SHARED_MODE, mode)}
        problem = env_limits.total_problem({k: v for layer in layers[mode.name] for k, v in layer.items()})
        if problem:
            problems.append(f"{' and '.join(sorted(files))} (the {mode.name} API): {problem}")
    if problems:
        raise UserEnvError("; ".join(dict.fromkeys(problems)) + REFUSED)
    return UserEnv(layers)
