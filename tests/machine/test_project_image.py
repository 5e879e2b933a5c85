"""The project image's build context, staged from a project folder on a real file system."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hive_infra.core.project_image import DOCKERFILE, STAGING_DIR
from hive_infra.machine.project_dir import ProjectDirError
from hive_infra.machine.project_image import FIXED_TIME, KEEP_DAYS, stage_projects

SECRET = "OPENAI_API_KEY=sk-must-not-reach-a-registry\n"


def make_project(folder: Path) -> Path:
    """A project as `hive init project` leaves it, with what a user's run adds."""
    for name, text in {
        "hive.yaml": "project: mine\n",
        "pyproject.toml": "[project]\nname = 'mine'\n",
        "ai/agents/mine/config.yaml": "agent:\n  agent_id: mine\n",
        "ai/tools/run.sh": "#!/bin/sh\n",
        "ai/data/keep.csv": "a,b\n",
        ".env": SECRET,
        ".env.agent": SECRET,
        "ai/agents/mine/.env.local": SECRET,
        "data/sessions.db": "rows",
        "logs/hive.log": "log",
        ".git/config": "[remote]\nurl = https://token@example.com/x\n",
        ".venv/bin/python": "",
        "ai/__pycache__/x.cpython-311.pyc": "",
    }.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (folder / "ai/tools/run.sh").chmod(0o700)
    return folder


def staged_files(work: Path, context: str) -> set[str]:
    project = work / context / "project"
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if not p.is_dir()}


def test_the_context_holds_the_project_without_keys_the_pods_folders_or_this_machines_files(tmp_path: Path) -> None:
    project = make_project(tmp_path / "mine")
    staged = stage_projects({"agent": str(project)}, tmp_path)["agent"]
    assert staged.context.startswith(f"{STAGING_DIR}/"), "relative to the program's folder: the same on any machine"
    assert (tmp_path / staged.context / "Dockerfile").read_text() == DOCKERFILE
    files = staged_files(tmp_path, staged.context)
    assert files == {
        "hive.yaml",
        "pyproject.toml",
        "ai/agents/mine/config.yaml",
        "ai/tools/run.sh",
        "ai/data/keep.csv",
    }, "only the project's own files; no .env*, data/, logs/, .git/, .venv/ or bytecode"
    every = b"".join(p.read_bytes() for p in (tmp_path / staged.context).rglob("*") if p.is_file())
    assert b"sk-must-not-reach" not in every and b"token@" not in every, "no key anywhere in the context"
    assert staged.files == 5


def test_modes_and_times_are_made_the_same_on_every_machine(tmp_path: Path) -> None:
    project = make_project(tmp_path / "mine")
    (project / "hive.yaml").chmod(0o600)
    staged = stage_projects({"agent": str(project)}, tmp_path)["agent"]
    root = tmp_path / staged.context / "project"
    assert (root / "hive.yaml").stat().st_mode & 0o777 == 0o644, "readable by the app's user, whoever owns it here"
    assert (root / "ai/tools/run.sh").stat().st_mode & 0o777 == 0o755, "an executable stays executable"
    assert {int(p.lstat().st_mtime) for p in root.rglob("*")} == {FIXED_TIME}, "no time of this machine in a layer"


def test_the_same_project_is_the_same_context_and_a_change_is_a_new_one(tmp_path: Path) -> None:
    project = make_project(tmp_path / "mine")
    first = stage_projects({"agent": str(project)}, tmp_path)["agent"]
    (project / "ai/__pycache__/y.cpython-311.pyc").write_text("written by a run here")
    (project / ".env").write_text(SECRET + "ANOTHER=1\n")
    (project / "logs/hive.log").write_text("more")
    again = stage_projects({"agent": str(project)}, tmp_path)["agent"]
    assert again == first, "bytecode, keys and logs changed: nothing to build, push or roll"
    (project / "ai/agents/mine/config.yaml").write_text("agent:\n  agent_id: mine\n  name: Mine\n")
    changed = stage_projects({"agent": str(project)}, tmp_path)["agent"]
    assert changed.digest != first.digest and changed.context != first.context, "an edit is a new context"
    (project / "ai/tools/run.sh").chmod(0o644)
    assert stage_projects({"agent": str(project)}, tmp_path)["agent"].digest != changed.digest, "a mode is content"
    leftovers = [p.name for p in (tmp_path / STAGING_DIR).iterdir() if p.name.startswith(".staging-")]
    assert not leftovers, "no half-written context is left behind"


def test_a_link_out_of_the_project_and_a_fifo_are_refused_together_for_every_mode(tmp_path: Path) -> None:
    one = make_project(tmp_path / "one")
    two = make_project(tmp_path / "two")
    (tmp_path / "outside.txt").write_text("a file of this machine")
    (one / "ai" / "leak.txt").symlink_to(tmp_path / "outside.txt")
    (one / "ai" / "inside.yaml").symlink_to("agents/mine/config.yaml")
    (one / "ai" / "absolute.yaml").symlink_to(one / "hive.yaml")
    os.mkfifo(two / "ai" / "pipe")
    with pytest.raises(ProjectDirError) as caught:
        stage_projects({"agent": str(one), "genie": str(two)}, tmp_path)
    message = str(caught.value)
    assert "hive:apiProjectDir" in message, "the key is named"
    assert "agent: ai/leak.txt is a link out of the project" in message, "the link out, by mode and path"
    assert "genie: ai/pipe is not a regular file" in message, "the other mode's problem in the same error"
    assert "inside.yaml" not in message, "a link inside the project is fine"
    os.unlink(one / "ai" / "leak.txt")
    os.unlink(two / "ai" / "pipe")
    staged = stage_projects({"agent": str(one)}, tmp_path)["agent"]
    link = tmp_path / staged.context / "project" / "ai" / "inside.yaml"
    assert link.is_symlink() and os.readlink(link) == "agents/mine/config.yaml", "kept as the link it is"
    absolute = tmp_path / staged.context / "project" / "ai" / "absolute.yaml"
    assert os.readlink(absolute) == "../hive.yaml", "a link by this machine's path is made relative: it works in /app"


def test_a_folder_every_mode_shares_is_staged_once_and_its_problems_named_once(tmp_path: Path) -> None:
    project = make_project(tmp_path / "mine")
    modes = {"workspace": str(project), "agent": str(tmp_path / "." / "mine"), "genie": str(project)}
    staged = stage_projects(modes, tmp_path)
    assert len(set(staged.values())) == 1 and set(staged) == set(modes), "one context, for every mode"
    os.mkfifo(project / "ai" / "pipe")
    with pytest.raises(ProjectDirError) as caught:
        stage_projects(modes, tmp_path)
    message = str(caught.value)
    assert message.count("ai/pipe") == 1, f"one folder, one problem, listed once:\n{message}"
    assert "workspace, agent, genie: ai/pipe is not a regular file" in message, message


def test_a_project_holding_the_pulumi_project_does_not_copy_its_own_staging(tmp_path: Path) -> None:
    make_project(tmp_path)
    first = stage_projects({"agent": str(tmp_path)}, tmp_path)["agent"]
    again = stage_projects({"agent": str(tmp_path)}, tmp_path)["agent"]
    assert again == first, "the staged contexts are not part of the next one"
    assert not any(".hive-build" in f for f in staged_files(tmp_path, first.context))


def test_old_contexts_go_and_the_ones_in_use_stay(tmp_path: Path) -> None:
    project = make_project(tmp_path / "mine")
    staged = stage_projects({"agent": str(project)}, tmp_path)["agent"]
    root = tmp_path / STAGING_DIR
    old = root / "0123456789abcdef"
    old.mkdir()
    long_ago = time.time() - (KEEP_DAYS + 1) * 86400
    os.utime(old, (long_ago, long_ago))
    os.utime(tmp_path / staged.context, (long_ago, long_ago))
    recent = root / "fedcba9876543210"
    recent.mkdir()
    stage_projects({"agent": str(project)}, tmp_path)
    assert not old.exists(), f"a context unused for {KEEP_DAYS} days is removed"
    assert (tmp_path / staged.context).is_dir(), "the one in use stays, however old its folder"
    assert recent.is_dir(), "another stack's recent context stays"
