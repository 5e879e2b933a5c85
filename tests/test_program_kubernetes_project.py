"""platform=kubernetes with apiProjectDir under the mocks: each mode's project baked into an
image over the app image, pushed, and run by the mode's pods and first start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pulumi
import pytest

from hive_infra.core.project_image import STAGING_DIR
from hive_infra.machine.project_dir import ProjectDirError
from tests.support.mocks import RecordingMocks, reveal
from tests.support.program import KUBERNETES_VALUES, ProgramRun, run_program

MODES = ("workspace", "agent", "genie")
REGISTRY = KUBERNETES_VALUES["imageRegistry"]
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


def make_project(folder: Path, agent: str = "mine") -> Path:
    for name, text in {
        "hive.yaml": "project: mine\n",
        "pyproject.toml": "[project]\nname = 'mine'\n",
        f"ai/agents/{agent}/config.yaml": f"agent:\n  agent_id: {agent}\n",
        ".env": "OPENAI_API_KEY=sk-never-in-an-image\n",
    }.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def run(tmp_path: Path, **values: Any) -> ProgramRun:
    return run_program({**KUBERNETES_VALUES, **values}, cwd=tmp_path)


def pod_image(run: ProgramRun, name: str) -> str:
    spec = dict(reveal(run.named(name).inputs))["spec"]["template"]["spec"]
    return str(spec["containers"][0]["image"])


def test_each_mode_runs_its_project_baked_over_the_built_app_and_pushed(tmp_path: Path) -> None:
    for mode in MODES:
        make_project(tmp_path / "projects" / mode, agent=f"{mode}-agent")
    program = run(tmp_path, apiProjectDir="projects/{mode}")
    app = program.named("hive-api-image")
    contexts = set()
    for mode in MODES:
        build = program.named(f"hive-kubernetes-{mode}-project-build")
        inputs = build.inputs
        assert inputs["build"]["context"].startswith(f"{STAGING_DIR}/"), "a context staged in the program's folder"
        assert inputs["build"]["buildArgs"] == {"APP_IMAGE": app.inputs["name"]}, "the layer goes on the built app"
        assert app.urn in build.dependencies, "built once the app image is"
        assert inputs["name"].startswith("hive-infra/hive-project:") and inputs["keepLocally"] is True
        contexts.add(inputs["build"]["context"])
        staged = tmp_path / inputs["build"]["context"] / "project"
        assert (staged / f"ai/agents/{mode}-agent/config.yaml").is_file(), f"{mode}'s own project is in its context"
        assert not (staged / ".env").exists(), "the project's keys stay out of the image"
        push = program.named(f"hive-kubernetes-{mode}-project-push-push")
        assert push.inputs["name"] == f"{REGISTRY}/hive-project:{inputs['name'].rsplit(':', 1)[1]}"
        for pods in (f"hive-kubernetes-{mode}-deployment", f"hive-kubernetes-{mode}-first-start"):
            assert pod_image(program, pods).startswith(f"{REGISTRY}/hive-project@sha256:"), (
                f"{pods} runs the project image by digest, so a changed project rolls the pods"
            )
    assert len(contexts) == 3, "one project per mode, one context each"
    pushes = [program.named(f"hive-kubernetes-{mode}-project-push-push") for mode in MODES]
    builds = [program.named(f"hive-kubernetes-{mode}-project-build") for mode in MODES]
    assert not {p.urn for p in pushes} & set(builds[0].dependencies), "the first image waits for no push"
    for before, build in zip(pushes, builds[1:], strict=False):
        assert before.urn in build.dependencies, (
            f"{build.name} waits for {before.name}: pushes sharing unpushed base layers can fail in the registry"
        )
    assert not [r for r in program.registrations if r.name == "hive-kubernetes-image-push"], (
        "every mode runs its project image: the app image itself is not pushed"
    )


def test_modes_with_the_same_project_share_one_image_and_a_changed_project_is_a_new_one(tmp_path: Path) -> None:
    project = make_project(tmp_path / "mine")

    def images() -> tuple[str, set[str]]:
        program = run(tmp_path, apiProjectDir="mine")
        builds = [r for r in program.of_type(REMOTE_IMAGE) if r.name.endswith("-project-build")]
        assert [b.name for b in builds] == ["hive-kubernetes-workspace-project-build"], (
            "one folder for every mode: one image, built and pushed once (three pushes of one tag at once fail)"
        )
        return builds[0].inputs["name"], {pod_image(program, f"hive-kubernetes-{m}-deployment") for m in MODES}

    first, pods = images()
    assert len(pods) == 1, f"every mode's pods run the one image: {pods}"
    (project / ".env").write_text("OPENAI_API_KEY=sk-rotated\n")
    assert images()[0] == first, "a key changed in the project's .env is not the image's: nothing to roll"
    (project / "ai/agents/mine/config.yaml").write_text("agent:\n  agent_id: mine\n  name: Mine\n")
    assert images()[0] != first, "an edited agent is a new image"


def test_per_mode_folders_with_the_same_content_are_one_image(tmp_path: Path) -> None:
    for mode in MODES:
        make_project(tmp_path / "projects" / mode, agent="same" if mode != "genie" else "own")
    program = run(tmp_path, apiProjectDir="projects/{mode}")
    builds = sorted(r.name for r in program.of_type(REMOTE_IMAGE) if r.name.endswith("-project-build"))
    assert builds == ["hive-kubernetes-genie-project-build", "hive-kubernetes-workspace-project-build"], builds
    assert pod_image(program, "hive-kubernetes-agent-deployment") == pod_image(
        program, "hive-kubernetes-workspace-deployment"
    ), "agent's project is workspace's, byte for byte: it runs workspace's image"


def test_on_apiimage_the_layer_goes_on_the_image_pulled_here(tmp_path: Path) -> None:
    make_project(tmp_path / "mine")
    program = run(tmp_path, apiProjectDir="mine", apiImage="registry.example.com/hive:1.0")
    pulled = program.named("hive-api-image")
    assert pulled.inputs["name"] == "registry.example.com/hive:1.0" and "build" not in pulled.inputs
    build = program.named("hive-kubernetes-workspace-project-build").inputs
    assert build["build"]["buildArgs"] == {"APP_IMAGE": "registry.example.com/hive:1.0"}, "FROM the pulled image"
    assert pod_image(program, "hive-kubernetes-agent-deployment").startswith(f"{REGISTRY}/hive-project@sha256:")
    assert not program.of_type("kubernetes:batch/v1:Job"), "apiImage's command is unknown: no first start"


def test_without_a_project_the_cluster_runs_the_app_image_with_no_layer(tmp_path: Path) -> None:
    program = run(tmp_path)
    assert not [r for r in program.of_type(REMOTE_IMAGE) if r.name.endswith("-project-build")]
    assert pod_image(program, "hive-kubernetes-agent-deployment").startswith(f"{REGISTRY}/hive-api@sha256:")
    assert not (tmp_path / STAGING_DIR).exists(), "nothing staged"


@pytest.mark.parametrize("preview", [False, True])
def test_a_link_out_of_the_project_is_refused_before_any_resource(tmp_path: Path, preview: bool) -> None:
    project = make_project(tmp_path / "mine")
    os.symlink("/etc/hostname", project / "ai" / "hostname")
    mocks = RecordingMocks(preview=preview)
    with pytest.raises(pulumi.RunError) as info:
        run_program({**KUBERNETES_VALUES, "apiProjectDir": "mine"}, preview=preview, mocks=mocks, cwd=tmp_path)
    assert isinstance(info.value.__cause__, ProjectDirError), "a RunError: the engine prints it without a traceback"
    assert "ai/hostname is a link out of the project" in str(info.value), str(info.value)
    assert mocks.counter == 0, "nothing is registered before the project is staged"
