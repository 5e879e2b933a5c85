"""The user's hive projects (``apiProjectDir``), checked when the program runs.

``hive serve`` refuses to start unless its working folder holds ``hive.yaml``,
``ai/`` and ``pyproject.toml``. ``apiProjectDir`` names the folder every mode's
API container serves, bind-mounted at ``/app`` (its ``data/`` and ``logs/`` are
the mode's volumes, mounted over it); ``{mode}`` in it stands for the mode's name,
one folder per mode (``./projects/{mode}``). Unset, the image's own scaffolded
project serves.

Checking a folder reads the file system, so it is not part of the pure config:
``__main__`` calls :func:`project_dirs` beside ``read_user_env``, before any
resource exists, and every missing folder or file is reported in one error
naming the key, the mode and what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hive_infra.core.modes import Mode

KEY = "hive:apiProjectDir"
#: Stands for the mode's name in ``apiProjectDir``.
MODE_FIELD = "{mode}"
#: Where ``hive serve`` runs in the API image (its WORKDIR).
PROJECT_MOUNT = "/app"
#: What ``hive serve`` needs in the folder: (name, is a folder).
REQUIRED: tuple[tuple[str, bool], ...] = (("hive.yaml", False), ("ai", True), ("pyproject.toml", False))


class ProjectDirError(Exception):
    """A project folder ``hive serve`` cannot serve; the message names each one and what it lacks.

    The program raises it to Pulumi as a ``pulumi.RunError`` of the same message (no traceback)."""


def project_path(template: str, mode: Mode) -> str:
    """``apiProjectDir`` for ``mode``: ``{mode}`` replaced by its name."""
    return template.replace(MODE_FIELD, mode.name)


def missing_parts(folder: Path) -> list[str]:
    """What ``folder`` lacks for ``hive serve`` (empty when it can serve)."""
    if not folder.exists():
        return ["the folder itself (it does not exist)"]
    if not folder.is_dir():
        return ["the folder itself (it is not a folder)"]
    missing = []
    for name, is_folder in REQUIRED:
        path = folder / name
        if is_folder and not path.is_dir():
            missing.append(f"{name}/ (a folder)")
        elif not is_folder and not path.is_file():
            missing.append(name)
    return missing


def project_dirs(template: str | None, modes: Sequence[Mode], base: Path | None = None) -> dict[str, str]:
    """Each mode's project folder as an absolute path (relative ones from ``base``,
    the project folder Pulumi runs the program in), or ``{}`` when unset; raises
    ``ProjectDirError`` listing every folder that cannot serve."""
    if template is None:
        return {}
    base = Path.cwd() if base is None else base
    folders: dict[str, str] = {}
    problems: list[str] = []
    for mode in modes:
        given = project_path(template, mode)
        folder = Path(given) if Path(given).is_absolute() else base / given
        folder = folder.resolve()
        missing = missing_parts(folder)
        if missing:
            problems.append(f"{mode.name}: {given} ({folder}) lacks {', '.join(missing)}")
        folders[mode.name] = str(folder)
    if problems:
        body = "\n".join(f"  - {p}" for p in problems)
        raise ProjectDirError(
            f"{KEY} names folders `hive serve` cannot serve (it needs hive.yaml, ai/ and pyproject.toml; "
            f"`hive init project <name>` makes one):\n{body}"
        )
    return folders
