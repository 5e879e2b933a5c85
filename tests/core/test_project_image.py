"""What of a user's project goes into its image, and how the image is named."""

from __future__ import annotations

import pytest

from hive_infra.core.project_image import DOCKERFILE, REPOSITORY, excluded, project_tag


@pytest.mark.parametrize(
    ("path", "is_dir", "why"),
    [
        ((".env",), False, "the project's keys"),
        (("ai", "agents", "mine", ".env.local"), False, "keys at any depth"),
        ((".git",), True, "a remote's URL can hold a token"),
        (("vendor", "lib", ".git"), True, "a nested repository's too"),
        (("data",), True, "the pod's own data folder"),
        (("logs",), True, "the pod's own logs folder"),
        ((".venv",), True, "this machine's interpreter"),
        (("ai", "__pycache__"), True, "bytecode written whenever the project runs here"),
        (("ai", "tools.pyc"), False, "bytecode"),
    ],
)
def test_what_must_not_reach_a_registry_or_belongs_to_the_pod_stays_out(
    path: tuple[str, ...], is_dir: bool, why: str
) -> None:
    assert excluded(path, is_dir), f"{'/'.join(path)} stays out: {why}"


@pytest.mark.parametrize(
    ("path", "is_dir"),
    [
        (("hive.yaml",), False),
        (("ai",), True),
        (("ai", "data"), True),  # only the top-level data/ is the pod's
        (("knowledge", "logs"), True),
        (("data",), False),  # a file named data is the project's
        (("ai", "agents", "mine", "config.yaml"), False),
        (("environment.md",), False),
    ],
)
def test_the_projects_own_files_go_in(path: tuple[str, ...], is_dir: bool) -> None:
    assert not excluded(path, is_dir), f"{'/'.join(path)} is the project's and is served"


def test_the_tag_changes_with_the_project_and_with_the_app_image_it_goes_on() -> None:
    tag = project_tag("hive-infra/hive-api:1.0.0rc7-aaaa", "c" * 64)
    assert tag.startswith(f"{REPOSITORY}:") and len(tag.rsplit(":", 1)[1]) == 16
    assert project_tag("hive-infra/hive-api:1.0.0rc7-aaaa", "c" * 64) == tag, "the same inputs, the same tag"
    assert project_tag("hive-infra/hive-api:1.0.0rc7-bbbb", "c" * 64) != tag, "a new app image is a new layer"
    assert project_tag("hive-infra/hive-api:1.0.0rc7-aaaa", "d" * 64) != tag, "a changed project is a new layer"


def test_the_layer_replaces_the_images_project_as_the_apps_user() -> None:
    lines = DOCKERFILE.splitlines()
    assert "COPY --chown=1000:1000 project/ /app/" in lines, "the files belong to uid 1000, which the pods run as"
    assert lines[-2:] == ["USER 1000", "WORKDIR /app"], "the layer ends as the app's user, where hive serve runs"
    assert any("! -name data ! -name logs" in line for line in lines), "the image's project goes, not the mounts"
