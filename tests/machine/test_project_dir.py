"""apiProjectDir: the folders `hive serve` serves, checked before any resource."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive_infra.core.modes import MODES
from hive_infra.machine.project_dir import ProjectDirError, missing_parts, project_dirs, project_path

ALL = tuple(MODES.values())


def make_project(folder: Path) -> Path:
    (folder / "ai").mkdir(parents=True)
    (folder / "hive.yaml").write_text("name: p\n")
    (folder / "pyproject.toml").write_text("[project]\nname='p'\n")
    return folder


def test_unset_serves_the_images_own_project(tmp_path: Path) -> None:
    assert project_dirs(None, ALL, tmp_path) == {}, "no folder mounted: the image's scaffolded project serves"


def test_one_folder_for_every_mode_resolved_from_the_project(tmp_path: Path) -> None:
    make_project(tmp_path / "proj")
    assert project_dirs("./proj", ALL, tmp_path) == {m.name: str(tmp_path / "proj") for m in ALL}, (
        "a relative folder is resolved from the project folder, as an absolute path Docker can bind"
    )


def test_mode_field_gives_each_mode_its_folder(tmp_path: Path) -> None:
    for mode in ALL:
        make_project(tmp_path / "projects" / mode.name)
    assert project_dirs(str(tmp_path / "projects" / "{mode}"), ALL, Path("/nowhere")) == {
        m.name: str(tmp_path / "projects" / m.name) for m in ALL
    }, "{mode} stands for each mode's name; an absolute path ignores the base"
    assert project_path("p/{mode}/{mode}", MODES["agent"]) == "p/agent/agent", "every {mode} is replaced"


def test_every_missing_part_of_every_folder_is_named(tmp_path: Path) -> None:
    make_project(tmp_path / "projects" / "workspace")
    (tmp_path / "projects" / "agent").mkdir(parents=True)
    (tmp_path / "projects" / "agent" / "ai").write_text("not a folder")
    (tmp_path / "projects" / "agent" / "hive.yaml").mkdir()
    with pytest.raises(ProjectDirError) as caught:
        project_dirs("projects/{mode}", ALL, tmp_path)
    message = str(caught.value)
    assert "hive:apiProjectDir" in message, "the error names the key"
    assert "workspace" not in message.split("\n", 1)[1], "a folder that can serve is not reported"
    assert "agent: projects/agent" in message and "hive.yaml, ai/ (a folder), pyproject.toml" in message, (
        f"each missing part of agent's folder, named as hive serve needs it: {message}"
    )
    assert "genie: projects/genie" in message and "does not exist" in message, f"a missing folder is named: {message}"
    assert "hive init project" in message, "the error says how to make a project"


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert missing_parts(tmp_path / "f") == ["the folder itself (it is not a folder)"], "a file cannot be served"
    assert missing_parts(make_project(tmp_path / "ok")) == [], "a complete project lacks nothing"
