"""What a destroy checks before it deletes anything, in the DataBackup's ``delete``.

``pulumi destroy`` does not run the program: the engine deletes what the
state holds, dependents first, and the DataBackup is the first resource of
ours it deletes (the data guard before it is a ``random`` resource). So its
``delete`` checks up front that the later steps can finish, and refuses with
nothing deleted otherwise: each .env file an EnvFile delete will edit can be
read and replaced (an EnvFile delete itself never fails on the file's
content: ``envfile``), and, when it backs up, the server answers and the
folder has room (``backup``).

It also reads the stack's config file, which the engine cannot: a
``hive:backupDir`` set there but not yet applied by an ``up`` is not the
folder a destroy uses, and the destroy says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # a dependency of pulumi; no stubs here

from hive_infra.machine import safe_file
from hive_infra.machine.safe_file import UnsafeFileError

#: The config keys read from the stack's file.
BACKUP_DIR_KEY = "hive:backupDir"
ENV_DIR_KEY = "hive:envDir"


def stack_config(stack: str, project_dir: Path | None = None) -> Mapping[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml`` in the project folder (where the
    provider runs); empty when it cannot be read (a check's help, never a refusal)."""
    path = (project_dir or Path.cwd()) / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    config = loaded.get("config") if isinstance(loaded, dict) else None
    return config if isinstance(config, dict) else {}


def folder_note(deployed: str, stack: str, config: Mapping[str, Any]) -> str | None:
    """What a destroy says when the stack file's ``backupDir`` is not the deployed one, or None."""
    configured = config.get(BACKUP_DIR_KEY)
    if not isinstance(configured, str) or os.path.normpath(configured) == os.path.normpath(deployed):
        return None
    return (
        f"backup before destroy: Pulumi.{stack}.yaml sets hive:backupDir to {configured}, but the deployed "
        f"stack has {deployed}, and a destroy cannot read configuration that no `pulumi up` applied, so it "
        f"used {deployed}. To back up into {configured} instead: pulumi up (it applies the configuration) "
        "before pulumi destroy"
    )


def edit_problem(path: str) -> str | None:
    """Why an EnvFile delete could not edit ``path`` (read, then replace it in its folder), or None. Reads only."""
    full = safe_file.absolute(path)
    try:
        data = safe_file.read_bytes(path)
    except UnsafeFileError as exc:
        return str(exc)
    if data is None:
        return None  # nothing to edit
    folder = os.path.dirname(full)
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write in the folder {folder} of {full}, where the edited file replaces it"
    owner = os.lstat(full).st_uid
    if os.geteuid() not in (0, owner):
        return f"{full} is owned by uid {owner}, not by who runs this: run the destroy as that user or as root"
    return None


def env_file_problems(paths: Sequence[str]) -> list[str]:
    """``edit_problem`` of each file a destroy will edit."""
    return [problem for path in paths if (problem := edit_problem(path)) is not None]
