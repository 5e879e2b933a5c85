"""The project image's build context, staged from the user's project folder (``apiProjectDir``)
while the program runs, on a cluster only (``core.project_image`` says what goes in and why).

Each mode's folder is copied into ``.hive-build/project-images/<digest>/`` under the
program's working folder: ``Dockerfile`` and ``project/``, the files' modes made 0644
(0755 when executable) and their times a fixed one, so that the same project is the same
context and the same layer on any machine. The digest covers what was written, as it was
written (a file edited meanwhile cannot make the context differ from its name). A context
already there is kept; contexts unused for ``KEEP_DAYS`` are removed.

Refused, every one reported together before any resource exists (``ProjectDirError``, which
the program raises as a ``pulumi.RunError``): a symbolic link leading out of the project (it
would carry a file of this machine into a registry), a file that is not a regular file, a
folder or a link, and a file that cannot be read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hive_infra.core.project_image import DOCKERFILE, PROJECT_FOLDER, STAGING_DIR, excluded
from hive_infra.machine.project_dir import KEY, ProjectDirError

#: The files' and folders' times in the context (2000-01-01): a copy made later is the same layer.
FIXED_TIME = 946684800
#: A staged context not used for this long is removed by the next program run.
KEEP_DAYS = 7
#: A half-written context (a run that stopped while copying) is removed after this long.
TMP_PREFIX = ".staging-"
TMP_KEEP_SECONDS = 3600


@dataclass(frozen=True)
class StagedProject:
    """A staged build context: its folder relative to the working folder, and the digest naming it."""

    context: str
    digest: str
    files: int


class _Refused(Exception):
    """What in one project folder cannot go into the image."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems


def stage_projects(folders: Mapping[str, str], work_dir: Path | None = None) -> dict[str, StagedProject]:
    """Each mode's project folder (``project_dir.project_dirs``'s) staged, by mode name; raises
    ``ProjectDirError`` listing every refused path of every mode."""
    root = (Path.cwd() if work_dir is None else work_dir) / STAGING_DIR
    # A folder several modes share (one apiProjectDir for all) is copied once.
    modes_of: dict[Path, list[str]] = {}
    for mode, folder in folders.items():
        modes_of.setdefault(Path(folder).resolve(), []).append(mode)
    staged: dict[str, StagedProject] = {}
    problems: list[str] = []
    for path, modes in modes_of.items():
        try:
            staged.update(dict.fromkeys(modes, stage_project(path, root)))
        except _Refused as exc:
            problems.extend(f"{', '.join(modes)}: {problem}" for problem in exc.problems)
    if problems:
        body = "\n".join(f"  - {p}" for p in problems)
        raise ProjectDirError(f"{KEY}: these cannot go into the project image (docs/kubernetes.md):\n{body}")
    prune(root, {Path(s.context).name for s in staged.values()})
    return staged


def stage_project(folder: Path, root: Path) -> StagedProject:
    """``folder`` copied into a context under ``root``; ``_Refused`` naming what cannot go in."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=root))
    try:
        digest, files = _copy(folder, tmp, root)
        final = root / digest[:16]
        try:
            tmp.rename(final)
        except OSError:
            if not final.is_dir():  # not another run's copy of the same project: a real failure
                raise
            _mark_used(final)  # the same context, staged before: kept
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return StagedProject(str(Path(STAGING_DIR) / digest[:16]), digest, files)


def _copy(folder: Path, target: Path, root: Path) -> tuple[str, int]:
    """The project's files into ``target/project``, the Dockerfile beside; their digest and count."""
    digest = hashlib.sha256(DOCKERFILE.encode())
    (target / "Dockerfile").write_text(DOCKERFILE)
    project = target / PROJECT_FOLDER
    project.mkdir()
    problems: list[str] = []
    files = 0
    for source in sorted(_entries(folder, root, problems)):
        relative = source.relative_to(folder)
        copied = _copy_entry(folder, source, project / relative, problems)
        if copied is None:
            continue
        what, data = copied
        digest.update(f"{what} {relative.as_posix()}\n".encode())
        if data is not None:
            files += 1
            digest.update(f"{len(data)}\n".encode())
            digest.update(data)
    if problems:
        raise _Refused(problems)
    for path in sorted(project.rglob("*"), reverse=True):  # a folder's contents before the folder
        os.utime(path, (FIXED_TIME, FIXED_TIME), follow_symlinks=False)
    os.utime(project, (FIXED_TIME, FIXED_TIME))
    return digest.hexdigest(), files


def _entries(folder: Path, root: Path, problems: list[str]) -> list[Path]:
    """Every path of ``folder`` the image takes (excluded folders not entered, links not followed;
    the staging ``root`` neither, when the project holds the Pulumi project)."""
    found: list[Path] = []
    staging = root.resolve()

    def unreadable(error: OSError) -> None:
        where = Path(error.filename).relative_to(folder) if error.filename else folder
        problems.append(f"{where} cannot be read ({error.strerror}); make it readable or remove it")

    for current, dirs, names in os.walk(folder, onerror=unreadable, followlinks=False):
        base = Path(current)
        depth = base.relative_to(folder).parts
        dirs[:] = [
            d
            for d in dirs
            if not excluded((*depth, d), is_dir=not (base / d).is_symlink()) and (base / d).resolve() != staging
        ]
        found += [base / d for d in dirs]
        found += [base / n for n in names if not excluded((*depth, n), is_dir=False)]
    return found


def _copy_entry(folder: Path, source: Path, dest: Path, problems: list[str]) -> tuple[str, bytes | None] | None:
    """One path copied: what it is for the digest (``file 644``, ``dir``, ``link <target>``) and a
    file's bytes as written; None when refused."""
    relative = source.relative_to(folder)
    if source.is_symlink():
        target, resolved = os.readlink(source), source.resolve()
        if not resolved.is_relative_to(folder.resolve()):
            problems.append(f"{relative} is a link out of the project (to {target}); copy what it names in instead")
            return None
        if os.path.isabs(target):  # this machine's path to a file of the project: the same file, relative in /app
            target = os.path.relpath(resolved, source.parent.resolve())
        dest.symlink_to(target)
        return f"link {target}", None
    if source.is_dir():
        dest.mkdir(mode=0o755)
        return "dir", None
    if not source.is_file():
        problems.append(f"{relative} is not a regular file, a folder or a link; remove it from the project")
        return None
    try:
        data = source.read_bytes()
    except OSError as exc:
        problems.append(f"{relative} cannot be read ({exc.strerror}); make it readable or remove it")
        return None
    mode = 0o755 if source.stat().st_mode & 0o111 else 0o644
    dest.write_bytes(data)
    dest.chmod(mode)
    return f"file {mode:o}", data


def _mark_used(path: Path) -> None:
    """A context's folder time set to now: used, so ``prune`` keeps it."""
    with contextlib.suppress(OSError):
        os.utime(path)


def prune(root: Path, keep: set[str]) -> None:
    """Remove contexts unused for ``KEEP_DAYS`` (but ``keep``) and half-written ones over an hour old."""
    now = time.time()
    for entry in root.iterdir() if root.is_dir() else ():
        with contextlib.suppress(OSError):
            age = now - entry.stat().st_mtime
            stale = age > TMP_KEEP_SECONDS if entry.name.startswith(TMP_PREFIX) else age > KEEP_DAYS * 86400
            if entry.name not in keep and stale:
                shutil.rmtree(entry)
