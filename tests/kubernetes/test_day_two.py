"""Day two of a ``platform=kubernetes`` stack: an upgrade from the last program that landed,
then objects deleted from the cluster by hand, each ending healthy with a no-op ``up``.

The program at ``COMMIT`` (7402380, the last landed before the project image: the API
tier on a cluster, its drain, Ingress and NetworkPolicy; taken from git) brings up
the stack on the tier's cluster against a managed PostgreSQL, in a namespace of its
own. Its state is exported and the stack removed from the backend (its objects left
running); today's program replaces the old one in the same project folder, as a user
upgrades, and the export is imported and previewed: the same URNs, no step at all.
``up --expect-no-changes`` agrees and leaves every pod as it was (none rolled).
Then a Deployment and another mode's Service are deleted by hand: a plain preview sees
nothing, doctor names both with ``make repair``, and the repair (what that runs) makes
them again, leaving the third mode's pods alone; then the whole namespace, named and
made again the same way; the destroy takes the namespace. The
Docker tier's ``test_state_upgrade`` and ``test_day_two`` do the same for a Docker stack.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hive_infra.core.platform import APP_LABEL
from tests.kubernetes.conftest import TIMINGS
from tests.support.cluster import Cluster
from tests.support.dockerlib import TierImages, docker, provide_wheels
from tests.support.engine import CommitUnavailable, Engine, changed_steps, program_at
from tests.support.kubestack import kubernetes_stack_config, start_managed_postgres

pytestmark = pytest.mark.kubernetes

COMMIT = "7402380c5084e543199e5d67aa307de8fb807291"
STACK = "k8sstate"
NAMESPACE = "hive-k8s-state"
PG_PORT = 55435
PG_CONTAINER = "hive-k8s-state-postgres"
SERVICES = {"workspace": "hive-agents", "agent": "hive-agent-dev-server", "genie": "hive-genie-server"}


@dataclass
class Move:
    engine: Engine
    cluster: Cluster
    images: TierImages
    before: Path
    password: str

    def pulumi(self, what: str, *args: str) -> str:
        result = self.engine.run(*args, "--stack", STACK, timeout=1200)
        TIMINGS.append((f"day two: {what}", result.seconds))
        return result.output

    def doctor(self) -> str:
        """What ``doctor`` prints of the stack, with the tier's kubectl."""
        return self.engine.hive(
            "doctor", "--stack", STACK, check=False, env={"KUBECTL": str(self.cluster.kubectl_bin)}
        ).output

    def assert_doctor_names_gone(self, what: str, why: str) -> None:
        said = self.doctor()
        line = next((x for x in said.splitlines() if what in x), "")
        assert "gone" in line and f"fix: make repair STACK={STACK}" in line, f"{why}:\n{said}"

    def assert_nothing_gone(self) -> None:
        said = self.doctor()
        assert not [x for x in said.splitlines() if "gone" in x], f"doctor finds nothing gone after the repair:\n{said}"

    def repair(self, what: str) -> str:
        """What ``make repair STACK=k8sstate YES=1`` runs."""
        made = self.engine.hive("repair", "--stack", STACK, "--yes", timeout=1200)
        TIMINGS.append((f"day two: repair of {what}", made.seconds))
        return made.output


@pytest.fixture(scope="module")
def move(
    cluster: Cluster,
    pulumi_bin: Path,
    kubernetes_plugin: Path,
    tier_images: TierImages,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Move]:
    if cluster.has_namespace(NAMESPACE):
        pytest.fail(f"namespace {NAMESPACE} exists already: not this run's to take")
    root = tmp_path_factory.mktemp("k8s-state")
    try:
        before = program_at(COMMIT, root / "program")
    except CommitUnavailable as exc:
        pytest.skip(f"the last landed program: {exc}")
    password = secrets.token_urlsafe(24)
    start_managed_postgres(tier_images, PG_CONTAINER, f"hive/{STACK}", PG_PORT, password)
    path = f"{kubernetes_plugin}:{pulumi_bin}:/usr/local/bin:/usr/bin:/bin"
    engine = Engine(pulumi_bin, root / "engine", {"PATH": path})
    try:
        yield Move(engine, cluster, tier_images, before, password)
    finally:
        engine.run("destroy", "--yes", "--skip-preview", "--stack", STACK, check=False, timeout=1200)
        if cluster.has_namespace(NAMESPACE):
            cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
        docker("rm", "-f", "-v", PG_CONTAINER, check=False)


def _pods(cluster: Cluster) -> dict[str, str]:
    """Every API pod of the namespace (not the first starts'), by name: its uid (a pod made again has a new one)."""
    serving = f"{APP_LABEL} in ({','.join(SERVICES.values())})"
    listing = json.loads(cluster.kubectl("-n", NAMESPACE, "get", "pods", "-l", serving, "-o", "json"))["items"]
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in listing if "deletionTimestamp" not in p["metadata"]}


def test_a_kubernetes_stack_of_the_last_landed_program_imports_and_previews_with_no_change(move: Move) -> None:
    engine = move.engine
    engine.install_program(move.before)
    provide_wheels(move.images, engine.program)
    config = kubernetes_stack_config(move.images, move.cluster, NAMESPACE, PG_PORT)
    engine.init_stack(STACK, config, {"adminPassword": move.password})
    move.pulumi("up of the Kubernetes stack by the last landed program", "up", "--yes", "--skip-preview")
    pods = _pods(move.cluster)
    assert len(pods) == 6, f"three modes, two replicas each, before the upgrade: {sorted(pods)}"
    engine.take_over(STACK, lambda program: provide_wheels(move.images, program))
    preview = engine.run("preview", "--stack", STACK, "--json", check=False, timeout=600)
    changed = changed_steps(preview, reasons=True)
    assert preview.code == 0 and not changed, (
        f"today's program must see the last landed program's Kubernetes stack as it is: {changed}\n"
        f"{preview.stderr[-1500:]}"
    )
    summary = preview.json().get("changeSummary", {})
    assert set(summary) == {"same"} and summary["same"] >= 30, (
        f"every resource of the stack (about forty) declared again, unchanged: {summary}"
    )
    move.pulumi("no-op up by today's program", "up", "--yes", "--expect-no-changes")
    assert _pods(move.cluster) == pods, "no pod was rolled or made again by the upgrade"


def test_a_deployment_and_a_service_deleted_by_hand_are_named_by_doctor_and_made_again_by_repair(
    move: Move,
) -> None:
    untouched = {n: uid for n, uid in _pods(move.cluster).items() if n.startswith(f"{SERVICES['workspace']}-")}
    assert len(untouched) == 2, f"workspace's two pods: {untouched}"
    move.cluster.kubectl("-n", NAMESPACE, "delete", "deployment", SERVICES["agent"], "--wait=true")
    move.cluster.kubectl("-n", NAMESPACE, "delete", "service", SERVICES["genie"])
    move.engine.run("preview", "--stack", STACK, "--expect-no-changes")  # why the repair exists: up sees nothing

    for what in (f"deployment {SERVICES['agent']}", f"service {SERVICES['genie']}"):
        move.assert_doctor_names_gone(what, f"doctor names {what} and the command that puts it back")

    made = move.repair("a Deployment and a Service deleted by hand")
    assert "cluster objects" in made, f"the repair refreshed the cluster's objects:\n{made[-2000:]}"
    ready = json.loads(move.cluster.kubectl("-n", NAMESPACE, "get", "deployment", SERVICES["agent"], "-o", "json"))
    assert ready["status"].get("readyReplicas") == 2, f"the agent's Deployment is back with two ready pods: {ready}"
    assert move.cluster.kubectl("-n", NAMESPACE, "get", "service", SERVICES["genie"], "-o", "name").strip(), (
        "genie's Service is back"
    )
    move.pulumi("no-op up after the repair", "up", "--yes", "--expect-no-changes")
    after = _pods(move.cluster)
    assert {n: after.get(n) for n in untouched} == untouched, "the repair left workspace's pods alone"
    move.assert_nothing_gone()


def test_the_whole_namespace_deleted_by_hand_is_named_by_doctor_and_made_again_by_repair(move: Move) -> None:
    move.cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=true", "--timeout=180s")
    move.assert_doctor_names_gone(
        f"namespace {NAMESPACE}", "doctor tells a namespace deleted under the stack from one a new stack will create"
    )
    move.repair("the namespace deleted by hand")
    listing = json.loads(move.cluster.kubectl("-n", NAMESPACE, "get", "deployments", "-o", "json"))["items"]
    ready = {d["metadata"]["name"]: d["status"].get("readyReplicas") for d in listing}
    assert ready == dict.fromkeys(SERVICES.values(), 2), f"every mode is back with two ready pods: {ready}"
    move.pulumi("no-op up after the namespace's repair", "up", "--yes", "--expect-no-changes")
    move.assert_nothing_gone()


def test_todays_destroy_takes_the_namespace_the_old_program_made(move: Move) -> None:
    move.pulumi("destroy by today's program", "destroy", "--yes", "--skip-preview")
    assert not move.cluster.has_namespace(NAMESPACE), "the destroy took the namespace the old program made"
