"""`make repair` runs the repair command, and the command frees what an older version left stuck."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from hive_infra.__main__ import main
from hive_infra.commands.contract import Context
from hive_infra.commands.repair import COMMAND, refresh_targets, unstick
from hive_infra.core.errors import ExitCode
from hive_infra.machine.stack_reader import PULUMI_ENV
from tests.support.fake_pulumi import make_fake_pulumi
from tests.support.program import PROJECT_DIR

ROOT = PROJECT_DIR
PREFIX = "urn:pulumi:dev::hive::hive:index:HiveStack$"
CONTAINER = PREFIX + "hive:index:SharedPostgres$docker:index/container:Container::hive-postgres-container"
VOLUME = PREFIX + "hive:index:SharedPostgres$docker:index/volume:Volume::hive-postgres-data"
ROLE = PREFIX + "hive:index:HiveDatabase$postgresql:index/role:Role::hive-database-role"
DATABASE = PREFIX + "hive:index:HiveDatabase$postgresql:index/database:Database::hive-database-database-agent"
API_IMAGE = PREFIX + "docker:index/remoteImage:RemoteImage::hive-api-image"
ENV_FILE = PREFIX + "pulumi-python:dynamic/hive:EnvFile::hive-envfile-workspace"


def make_recipe(target: str) -> list[str]:
    """The command lines of a Makefile target."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"the Makefile has a {target} target"
    return [line.strip() for line in match.group(1).splitlines()]


def stuck(volume: bool = True) -> dict[str, Any]:
    """A stack as an older version left it after a replaced PostgreSQL container (issue #28)."""
    resources: list[dict[str, Any]] = [
        {"urn": CONTAINER, "type": "docker:index/container:Container"},
        {"urn": ROLE, "deletedWith": CONTAINER, "pendingReplacement": True},
        {"urn": DATABASE, "deletedWith": CONTAINER, "retainOnDelete": True},
        {"urn": DATABASE, "deletedWith": CONTAINER, "delete": True},
        {"urn": API_IMAGE},
        {"urn": ENV_FILE},
    ]
    if volume:
        resources.insert(0, {"urn": VOLUME})
    return {"manifest": {"version": "3.260.0"}, "resources": resources}


def test_make_repair_runs_the_command_and_takes_yes() -> None:
    assert make_recipe("repair") == ["$(RUN) $(BIN)/python -m hive_infra repair --stack $(STACK) $(ASSUME_YES)"], (
        "make repair is the command doctor names (with make up's Pulumi CLI), unattended with YES=1"
    )
    text = (ROOT / "Makefile").read_text()
    assert "ASSUME_YES := $(if $(filter 1 yes true,$(YES)),--yes)" in text, "YES=1 becomes --yes"
    assert any("$(ASSUME_YES)" in line and "pulumi" in line for line in make_recipe("destroy")), (
        "make destroy YES=1 runs without a terminal too"
    )
    assert any("YES=$(YES)" in line and "scripts/up.sh" in line for line in make_recipe("up")), (
        "make up YES=1 runs without a terminal too (scripts/up.sh passes --yes to pulumi up)"
    )


def test_unstick_frees_the_objects_tied_to_the_container() -> None:
    given = stuck()
    fixed, changed = unstick(given)
    by_urn = {(r["urn"], bool(r.get("delete"))): r for r in fixed["resources"]}
    role, database = by_urn[(ROLE, False)], by_urn[(DATABASE, False)]
    assert "pendingReplacement" not in role, "the role exists on the kept data: no longer to be created again"
    assert role["deletedWith"] == VOLUME and database["deletedWith"] == VOLUME, "they go with the data now"
    assert database["retainOnDelete"] is True, "everything else of the record is kept"
    assert by_urn[(DATABASE, True)]["deletedWith"] == CONTAINER, "an old copy pending delete is left alone"
    assert changed == ["hive-database-role", "hive-database-database-agent"], changed
    assert next(r for r in given["resources"] if r["urn"] == ROLE)["pendingReplacement"] is True, (
        "the export given is not changed in place (it is kept as the backup)"
    )


def test_unstick_with_a_data_folder_ties_them_to_nothing() -> None:
    fixed, _ = unstick(stuck(volume=False))
    role = next(r for r in fixed["resources"] if r["urn"] == ROLE)
    assert "deletedWith" not in role, "a dataPath folder outlives the stack: nothing to go with"


def test_unstick_leaves_a_healthy_stack_alone() -> None:
    _, changed = unstick(unstick(stuck())[0])
    assert changed == [], "a second repair changes nothing, so it imports nothing"


def test_the_refresh_reads_only_containers_and_images() -> None:
    assert refresh_targets(stuck()) == sorted([CONTAINER, API_IMAGE]), (
        "never a database object: they need the server, which may be the thing being repaired"
    )


def test_on_a_cluster_the_refresh_reads_every_kubernetes_object_and_nothing_in_the_database() -> None:
    kube = "urn:pulumi:dev::hive::hive:index:HiveStack$hive:index:HiveKubernetes$"
    deployment = kube + "hive:index:KubernetesApi$kubernetes:apps/v1:Deployment::hive-kubernetes-agent-deployment"
    service = kube + "hive:index:KubernetesApi$kubernetes:core/v1:Service::hive-kubernetes-agent-service"
    namespace = kube + "kubernetes:core/v1:Namespace::hive-kubernetes-namespace"
    provider = kube + "pulumi:providers:kubernetes::hive-kubernetes-provider"
    push = kube + "hive:index:RegistryPush$docker:index/registryImage:RegistryImage::hive-kubernetes-image-push"
    stack = {"resources": [{"urn": u} for u in (deployment, service, namespace, provider, push, ROLE, DATABASE)]}
    assert refresh_targets(stack) == sorted([deployment, service, namespace]), (
        "an object deleted from the cluster by hand is seen by the refresh, and up makes it again; "
        "the provider, the registry's push and the database objects are not read"
    )


def test_troubleshooting_names_the_repair() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    assert "make repair STACK=dev YES=1" in text, "the unattended form, as doctor prints it"
    assert "python -m hive_infra repair" in text, "and the command it runs"


def repair(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["repair", *argv], Context(out, err))
    return code, out.getvalue(), err.getvalue()


def test_without_a_stack_repair_refuses_and_says_nothing_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_fake_pulumi(tmp_path, stack_name="")
    monkeypatch.setenv(PULUMI_ENV, str(fake.path))
    code, out, err = repair()
    assert (code, out) == (ExitCode.REFUSED, ""), "no stack selected is refused before any step"
    assert err == (
        "repair: error: no stack selected: pass --stack NAME (or `pulumi stack select NAME`)\n"
        "repair: nothing was changed\n"
    ), err
    assert ExitCode.REFUSED in COMMAND.exit_codes, "and its --help names that exit code"


def test_without_pulumi_repair_fails_before_changing_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PULUMI_ENV, str(tmp_path / "no-pulumi"))
    code, _, err = repair("--stack", "dev")
    lines = err.splitlines()
    assert code == ExitCode.FAILED and lines[0].startswith("repair: error: the Pulumi CLI"), err
    assert lines[1:] == ["repair: nothing was changed"], "the failure came before the first step"
