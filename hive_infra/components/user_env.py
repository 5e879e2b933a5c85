"""The user's own keys in the .env files, read when the program runs.

The API containers get what the legacy compose files gave them with
``env_file``: every key of the workspace ``.env`` (where model-provider keys
such as ``OPENAI_API_KEY`` live), overridden by the mode's own file. This is
the program's one read of the machine: the files are read while ``pulumi
preview``/``up`` builds the resources, through ``safe_file.read_text`` (a
symbolic link, a directory or non-UTF-8 text is refused) and python-dotenv's
parser (``dotenv_text.parse``, which refuses what python-dotenv cannot parse).

A missing file holds no keys (the first ``up`` writes it). Values are taken as
python-dotenv reads them, without ``${VAR}`` expansion, so they never depend on
the environment of whoever runs ``pulumi``. Which keys win over which is
``rendering.container_env``'s rule; this module only reads. Values are secrets
(model keys): they are never logged, and an error names the file, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from hive_infra.core import safe_file
from hive_infra.core.dotenv_text import DotenvSyntaxError, parse
from hive_infra.core.modes import MODES, Mode
from hive_infra.core.rendering import env_file_path
from hive_infra.core.safe_file import UnsafeFileError

#: The mode whose file holds the keys every mode gets (the legacy main .env).
SHARED_MODE = MODES["workspace"]


class UserEnvError(pulumi.RunError):
    """A .env file that cannot be read; the message names the file and the fix, never a value."""


@dataclass(frozen=True)
class UserEnv:
    """Each mode's layers of user keys, lowest first: the workspace file, then the mode's own."""

    layers: Mapping[str, tuple[Mapping[str, str], ...]] = field(default_factory=dict, repr=False)

    def of(self, mode: str) -> tuple[Mapping[str, str], ...]:
        return self.layers.get(mode, ())

    def __repr__(self) -> str:  # keys only: values are secrets
        return f"UserEnv({ {m: [sorted(layer) for layer in layers] for m, layers in self.layers.items()} })"


def read_values(path: str) -> dict[str, str]:
    """The keys a .env file binds to a value (the last binding of a key wins, as
    in python-dotenv); ``{}`` when the file does not exist."""
    try:
        text = safe_file.read_text(path)
        if text is None:
            return {}
        bindings = parse(text, safe_file.absolute(path))
    except (UnsafeFileError, DotenvSyntaxError) as exc:
        raise UserEnvError(f"cannot read the keys the API containers get from it: {exc}") from None
    # A bare `KEY` line binds no value: python-dotenv gives None, and so it sets nothing.
    return {b.key: b.value for b in bindings if b.key is not None and b.value is not None}


def read_user_env(env_dir: str, modes: Sequence[Mode]) -> UserEnv:
    """Each mode's layers, read from ``envDir`` (relative to the working
    directory, the project folder under ``pulumi``, as ``EnvFile`` resolves it)."""
    cache: dict[str, dict[str, str]] = {}

    def values(mode: Mode) -> dict[str, str]:
        path = env_file_path(env_dir, mode)
        if path not in cache:
            cache[path] = read_values(path)
        return cache[path]

    layers: dict[str, tuple[Mapping[str, str], ...]] = {}
    for mode in modes:
        shared, own = values(SHARED_MODE), values(mode)
        layers[mode.name] = (shared,) if mode == SHARED_MODE else (shared, own)
    return UserEnv(layers)
