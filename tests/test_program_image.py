"""The whole program under mocks: the API image it builds or takes, and the project folders it mounts."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from hive_infra.machine.project_dir import ProjectDirError
from tests.support.mocks import RecordingMocks, Registration
from tests.support.program import ProgramRun, run_program

IMAGE = "docker:index/remoteImage:RemoteImage"
CONTAINER = "docker:index/container:Container"
MODES = ("workspace", "agent", "genie")


def image_of(run: ProgramRun) -> Registration:
    return run.named("hive-api-image")


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_the_default_stack_builds_the_pinned_app(preview: bool) -> None:
    run = run_program(preview=preview)
    image = image_of(run)
    build = image.inputs["build"]
    assert image.inputs["name"].startswith("hive-infra/hive-api:1.0.0rc7-"), "tagged by the pinned version"
    assert build["context"] == "hive_infra/image", "the Dockerfile kept in the project, from the project folder"
    assert build["buildArgs"] == {"APP_VERSION": "1.0.0rc7", "BASE_IMAGE": "python:3.11-slim"}, (
        "the tested pin on apiBaseImage's default"
    )
    assert image.inputs["keepLocally"] is True, "a destroy leaves the image: another stack may run the same build"
    assert "pullParent" not in build or build["pullParent"] is False, "the base is never pulled over a local one"
    for mode in MODES:
        container = run.named(f"hive-api-{mode}-container")
        assert image.urn in container.dependencies, f"{mode} runs the built image, so it waits for the build"


def test_the_tag_follows_version_and_base() -> None:
    default = image_of(run_program()).inputs["name"]
    other_version = image_of(run_program({"apiVersion": "1.0.0"})).inputs
    assert other_version["name"].startswith("hive-infra/hive-api:1.0.0-"), "another version, another tag"
    assert other_version["build"]["buildArgs"]["APP_VERSION"] == "1.0.0", "and it reaches the build"
    other_base = image_of(run_program({"apiBaseImage": "hive-test/python:3.11-x"})).inputs
    assert other_base["name"] != default, "another base, another tag (the image is rebuilt and replaced)"
    assert other_base["build"]["buildArgs"]["BASE_IMAGE"] == "hive-test/python:3.11-x", "the base reaches FROM"
    assert image_of(run_program()).inputs["name"] == default, "the same inputs, the same tag: nothing to replace"


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"apiImage": "ghcr.io/namastexlabs/automagik-hive:latest"}, "/api/v1/health"),
        ({"apiImage": "my-registry.local/hive:1"}, "/health"),
        ({"apiImage": "ghcr.io/namastexlabs/automagik-hive:latest", "apiHealthPath": "/health"}, "/health"),
    ],
)
def test_a_given_image_is_taken_as_it_is(config: dict[str, str], path: str) -> None:
    run = run_program({**config, "modes": ["agent"]})
    image = image_of(run)
    assert image.inputs["name"] == config["apiImage"], "apiImage wins over the build"
    assert "build" not in image.inputs, "nothing is built for a given image"
    check = run.named("hive-api-agent-container").inputs["healthcheck"]["tests"]
    assert check[-1] == f"http://127.0.0.1:38886{path}", f"{config}: the 0.x image keeps its probe unless set"


def test_no_image_without_api_containers() -> None:
    images = [r.name for r in run_program({"apiContainers": False}).of_type(IMAGE)]
    assert images == ["hive-postgres-image"], "no API container, no API image to build: PostgreSQL's only"


def make_project(folder: Path) -> Path:
    (folder / "ai" / "agents").mkdir(parents=True)
    (folder / "hive.yaml").write_text("name: mine\n")
    (folder / "pyproject.toml").write_text("[project]\nname = 'mine'\n")
    return folder


def test_a_project_folder_is_mounted_where_hive_serve_runs(tmp_path: Path) -> None:
    make_project(tmp_path / "my-hive")
    run = run_program({"apiProjectDir": "my-hive"}, cwd=tmp_path)
    for mode in MODES:
        volumes = run.named(f"hive-api-{mode}-container").inputs["volumes"]
        assert volumes[0] == {"hostPath": str(tmp_path / "my-hive"), "containerPath": "/app"}, (
            f"{mode}: the folder, resolved from the project folder, bound at the image's WORKDIR"
        )
        assert [v.get("containerPath") for v in volumes[1:]] == ["/app/logs", "/app/data"], (
            f"{mode}: logs and data stay on the mode's volumes, over the project"
        )


def test_one_project_per_mode(tmp_path: Path) -> None:
    for mode in MODES:
        make_project(tmp_path / "projects" / mode)
    run = run_program({"apiProjectDir": "projects/{mode}"}, cwd=tmp_path)
    for mode in MODES:
        bound = run.named(f"hive-api-{mode}-container").inputs["volumes"][0]["hostPath"]
        assert bound == str(tmp_path / "projects" / mode), f"{mode} serves its own folder"


def test_without_a_project_folder_the_image_serves_its_own(tmp_path: Path) -> None:
    run = run_program(cwd=tmp_path)
    for mode in MODES:
        volumes = run.named(f"hive-api-{mode}-container").inputs["volumes"]
        assert not [v for v in volumes if "hostPath" in v], f"{mode}: nothing bound over the image's project"


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_a_bad_project_folder_is_refused_before_any_resource(tmp_path: Path, preview: bool) -> None:
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "hive.yaml").write_text("name: half\n")
    mocks = RecordingMocks(preview=preview)
    with pytest.raises(pulumi.RunError) as info:
        run_program({"apiProjectDir": "half"}, preview=preview, mocks=mocks, cwd=tmp_path)
    assert isinstance(info.value.__cause__, ProjectDirError), "a RunError: the engine prints it without a traceback"
    message = str(info.value)
    assert "hive:apiProjectDir" in message and "ai/ (a folder), pyproject.toml" in message, (
        f"names the key and what is missing: {message}"
    )
    assert mocks.counter == 0, "nothing is registered before the folder is checked"


def test_a_project_folder_is_not_checked_without_api_containers(tmp_path: Path) -> None:
    run = run_program({"apiProjectDir": "missing", "apiContainers": False}, cwd=tmp_path)
    assert not run.of_type(CONTAINER)[1:], "no API container reads the folder, so it is not required"
