"""The project's own stack with ``platform=kubernetes`` under the real engine, on the tier's
one-node cluster, against a managed PostgreSQL.

The managed server is the Docker tier's PostgreSQL image (pgvector, which the app's
knowledge tables need and the host's throwaway server lacks) published on the
host-side veth address, 198.18.0.1, where both this machine and the pods reach it,
``sslMode=disable``. The stack builds its API image on the tier's Python base with
the host's wheels, pushes it to the cluster's registry, and runs the three modes
with two replicas each. The tests run in order and build on each other (one stack's
life): preview, up, each Deployment Available, each API through its Service (its own
key only, its own memories and sessions), no secret outside a Secret, a deleted pod,
a rolling change and a user's project (apiProjectDir: its image built, pushed, rolled to
and served by every replica) each under a request loop with no failure, an Ingress and
a NetworkPolicy per mode accepted, a no-op up with the project set, destroy
(the namespace gone, the databases and rows kept, the user's lines kept).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hive_infra.core.names import STACK_LABEL
from hive_infra.core.platform import APP_LABEL
from tests.kubernetes.conftest import TIMINGS
from tests.support import hive_app
from tests.support.cluster import Cluster, LoopResult, RequestLoop, http_get, poll
from tests.support.dockerlib import (
    DockerUnavailable,
    build_images,
    docker,
    engine_answers,
    provide_wheels,
    user_project,
)
from tests.support.engine import Engine, Result
from tests.support.hive_app import ModeApi
from tests.support.kubestack import HOST_IP, kubernetes_stack_config, start_managed_postgres

pytestmark = pytest.mark.kubernetes

STACK = "k8stier"
NAMESPACE = "hive-k8s-tier"
PG_PORT = 55433
PG_CONTAINER = "hive-k8s-tier-postgres"
PG_OWNER = f"hive/{STACK}"
SERVICES = {"workspace": "hive-agents", "agent": "hive-agent-dev-server", "genie": "hive-genie-server"}
USER_LINE = "MY_MODEL_KEY=sk-mine-not-the-stacks\n"
#: The mode whose pods are deleted and rolled under a request loop (one is enough: all are alike).
LOOP_MODE = "agent"
#: A key the user adds to that mode's .env: a changed Secret, so the pods roll.
ROLL_LINE = "MY_AGENT_KEY=sk-added-later\n"
#: The agent of the user's project (apiProjectDir), and a key in its .env that no image may hold.
PROJECT_AGENT = "tier-project-agent"
PROJECT_SECRET = "sk-tier-project-" + secrets.token_hex(8)
#: Each mode's API port (the one port function's).
SERVICE_PORTS = {"workspace": 8886, "agent": 38886, "genie": 48886}
#: The request loop's bounds: a request every 50 ms, at most this many or this long.
LOOP_COUNT = 6000
LOOP_SECONDS = 300.0


@dataclass
class Life:
    engine: Engine
    cluster: Cluster
    admin_password: str

    def pulumi(self, *args: str, check: bool = True, timeout: float = 1200) -> Result:
        result = self.engine.run(*args, "--stack", STACK, check=check, timeout=timeout)
        TIMINGS.append((f"hive stack: pulumi {' '.join(a for a in args if not a.startswith('--'))}", result.seconds))
        return result

    def outputs(self) -> dict[str, Any]:
        return self.engine.outputs(STACK, secrets=True)

    def admin_dsn(self, database: str = "postgres") -> str:
        return f"host={HOST_IP} port={PG_PORT} user=postgres password={self.admin_password} dbname={database}"


@pytest.fixture(scope="module")
def life(
    cluster: Cluster, pulumi_bin: Path, kubernetes_plugin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Life]:
    why = engine_answers()
    if why is not None:
        pytest.skip(f"no Docker engine answers: {why}")
    try:
        images = build_images()
    except DockerUnavailable as exc:
        pytest.skip(f"the test images cannot be built: {exc}")
    if cluster.has_namespace(NAMESPACE):
        pytest.fail(f"namespace {NAMESPACE} exists already: not this run's to take")
    password = secrets.token_urlsafe(24)
    start_managed_postgres(images, PG_CONTAINER, PG_OWNER, PG_PORT, password)
    path = f"{kubernetes_plugin}:{pulumi_bin}:/usr/local/bin:/usr/bin:/bin"
    engine = Engine(pulumi_bin, tmp_path_factory.mktemp("k8s-tier"), {"PATH": path})
    provide_wheels(images, engine.program)
    (engine.program / ".env").write_text(USER_LINE)
    config = kubernetes_stack_config(images, cluster, NAMESPACE, PG_PORT)
    engine.init_stack(STACK, config, {"adminPassword": password})
    try:
        yield Life(engine, cluster, password)
    finally:
        if cluster.has_namespace(NAMESPACE):
            cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
        docker("rm", "-f", "-v", PG_CONTAINER, check=False)


def _deployments(life: Life) -> dict[str, dict[str, Any]]:
    listing = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", "deployments", "-o", "json"))
    return {d["metadata"]["name"]: d for d in listing["items"]}


def _apis(life: Life, outputs: dict[str, Any]) -> dict[str, ModeApi]:
    """Each mode's API through its Service's ClusterIP, which the host routes to the cluster."""
    found = {}
    for mode, service in SERVICES.items():
        spec = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", "service", service, "-o", "json"))["spec"]
        url = f"http://{spec['clusterIP']}:{spec['ports'][0]['port']}"
        found[mode] = ModeApi(mode, url, {"HIVE_API_KEY": outputs["apiKeys"][mode]})
    return found


def test_preview_plans_the_cluster_objects(life: Life) -> None:
    result = life.pulumi("preview")
    for kind in (
        "kubernetes:core/v1:Namespace",
        "kubernetes:apps/v1:Deployment",
        "docker:index:RegistryImage",
        "kubernetes:batch/v1:Job",
    ):
        assert kind in result.stdout, f"preview plans {kind}:\n{result.stdout[-3000:]}"
    assert not life.cluster.has_namespace(NAMESPACE)


def test_up_returns_with_every_deployment_available(life: Life) -> None:
    life.pulumi("up", "--yes", "--skip-preview")
    deployments = _deployments(life)
    assert sorted(deployments) == sorted(SERVICES.values()), "a Deployment per mode, named as the Docker containers"
    for name, d in deployments.items():
        status = d["status"]
        assert (status.get("readyReplicas"), status.get("availableReplicas")) == (2, 2), f"{name}: {status}"
    outputs = life.outputs()
    assert outputs["namespace"] == NAMESPACE
    assert outputs["apiUrls"]["agent"] == f"http://hive-agent-dev-server.{NAMESPACE}.svc.cluster.local:38886"


def test_doctor_checks_the_cluster_the_namespace_the_registry_and_the_server(life: Life) -> None:
    done = life.engine.hive("doctor", "--stack", STACK, check=False, env={"KUBECTL": str(life.cluster.kubectl_bin)})
    lines = done.output.splitlines()
    for expected in ("ok   cluster: reachable", f"ok   namespace {NAMESPACE}: this stack's", "ok   registry ",
                     "ok   managed PostgreSQL"):  # fmt: skip
        assert any(line.startswith(expected) for line in lines), f"doctor says {expected!r}:\n{done.output}"


def test_the_first_start_of_two_replicas_raced_on_nothing(life: Life) -> None:
    """The first start ran alone (each mode's Job completed before its Deployment), and then no
    pod restarted and no pod's log has a failed schema or table creation."""
    jobs = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", "jobs", "-o", "json"))["items"]
    assert len(jobs) == len(SERVICES) and all(j["status"].get("succeeded") == 1 for j in jobs), (
        f"each mode's first start completed: {[(j['metadata']['name'], j['status']) for j in jobs]}"
    )
    pods = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", "pods", "-o", "json"))["items"]
    restarts = {p["metadata"]["name"]: p["status"]["containerStatuses"][0]["restartCount"] for p in pods}
    logs = {
        name: life.cluster.kubectl("-n", NAMESPACE, "logs", name, "--all-containers", check=False) for name in restarts
    }
    failed = {
        name: [
            line for line in text.splitlines() if re.search(r"(?i)already exists|UniqueViolation|duplicate key", line)
        ]
        for name, text in logs.items()
    }
    assert restarts == dict.fromkeys(restarts, 0), f"a replica restarted on the first start: {restarts}"
    assert not any(failed.values()), f"a replica's creation failed against the other's: {failed}"


def test_each_api_answers_through_its_service_with_its_own_key_only(life: Life) -> None:
    outputs = life.outputs()
    modes = _apis(life, outputs)
    for mode, api in modes.items():
        poll(f"{mode}'s Service answers", lambda api=api: http_get(api.base_url + "/health"), 60)
    hive_app.assert_own_key_only(modes)


def test_each_mode_keeps_its_memories_and_sessions_apart(life: Life) -> None:
    modes = _apis(life, life.outputs())
    for mode, api in modes.items():
        hive_app.create_memory(api, f"remembered by {mode}", user_id="tier-user")
        hive_app.create_session(api, f"session-{mode}", f"{mode}'s session", user_id="tier-user")
    for mode, api in modes.items():
        # Several reads: each may reach either replica, and both serve the same database.
        for _ in range(4):
            memories = {m["memory"] for m in hive_app.list_memories(api, user_id="tier-user")}
            assert memories == {f"remembered by {mode}"}, f"{mode} reads back only its own memory"
        sessions = {s["session_id"] for s in hive_app.list_sessions(api, user_id="tier-user")}
        assert sessions == {f"session-{mode}"}, f"{mode} lists only its own session"


def test_no_secret_outside_a_secret(life: Life) -> None:
    outputs = life.outputs()
    values = [life.admin_password, *outputs["apiKeys"].values()]
    values += [re.sub(r"^.*://[^:]+:([^@]+)@.*$", r"\1", url) for url in outputs["databaseUrls"].values()]
    state = life.engine.run("stack", "export", "--stack", STACK).stdout
    configmaps = life.cluster.kubectl("-n", NAMESPACE, "get", "configmaps", "-o", "json")
    pods = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", "pods", "-o", "json"))["items"]
    specs = json.dumps([p["spec"] for p in pods])
    annotations = json.dumps([p["metadata"].get("annotations") for p in pods] + [_deployments(life)])
    for where, text in (
        ("state", state),
        ("configmaps", configmaps),
        ("pod specs", specs),
        ("annotations", annotations),
    ):
        leaked = [i for i, value in enumerate(values) if value and value in text]
        assert not leaked, f"secret value(s) #{leaked} in the {where}"
    assert '"env":' not in specs.replace('"envFrom":', ""), "the pods get no plain env"


def _serving_pods(life: Life, service: str) -> list[str]:
    """The mode's pods that are ready and not terminating."""
    listing = json.loads(
        life.cluster.kubectl("-n", NAMESPACE, "get", "pods", "-l", f"{APP_LABEL}={service}", "-o", "json")
    )
    return sorted(
        p["metadata"]["name"]
        for p in listing["items"]
        if "deletionTimestamp" not in p["metadata"]
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
    )


def _settled(life: Life, service: str, gone: set[str]) -> bool:
    """Two ready pods, none of ``gone`` left (not even terminating)."""
    every = life.cluster.kubectl("-n", NAMESPACE, "get", "pods", "-l", f"{APP_LABEL}={service}", "-o", "name")
    left = {line.removeprefix("pod/") for line in every.split()}
    return len(_serving_pods(life, service)) == 2 and not left & gone


def _loop_figures(what: str, result: LoopResult) -> None:
    TIMINGS.append((f"{what}: {result.requests} requests, {result.failed} failed", result.seconds))
    assert result.stopped, f"{what}: the loop ran into its bounds before the change settled: {result}"
    assert result.failed == 0, f"{what}: {result.failed} of {result.requests} requests failed: {result.errors}"


def test_a_deleted_pod_is_replaced_with_no_failed_request(life: Life) -> None:
    """Through the Service's ClusterIP (routed to the cluster and balanced by its kube-proxy, not a
    port-forward pinned to one pod): the deleted pod drains, its replacement gets traffic once ready."""
    service = SERVICES[LOOP_MODE]
    url = _apis(life, life.outputs())[LOOP_MODE].base_url + "/health"
    victim, *_ = before = _serving_pods(life, service)
    assert len(before) == 2, f"two ready pods to begin with: {before}"
    with RequestLoop(url, LOOP_COUNT, LOOP_SECONDS) as loop:
        time.sleep(2)
        life.cluster.kubectl("-n", NAMESPACE, "delete", "pod", victim, "--wait=false")
        poll(f"{service}: the pod replaced and gone", lambda: _settled(life, service, {victim}), 180, interval=1)
        time.sleep(2)
    _loop_figures(f"{service}: a pod deleted and replaced", loop.stop())


def test_a_users_new_key_rolls_the_pods_with_no_failed_request(life: Life) -> None:
    """A key added to the mode's .env changes its Secret's checksum: up rolls both pods (a new
    first start, then one new pod at a time) while the loop sees no failure."""
    service = SERVICES[LOOP_MODE]
    url = _apis(life, life.outputs())[LOOP_MODE].base_url + "/health"
    before = _serving_pods(life, service)
    env_file = life.engine.program / ".env.agent"
    with RequestLoop(url, LOOP_COUNT, LOOP_SECONDS) as loop:
        time.sleep(2)
        text = env_file.read_text()
        env_file.write_text(text + ("\n" if text and not text.endswith("\n") else "") + ROLL_LINE)
        life.pulumi("up", "--yes", "--skip-preview")
        poll(f"{service}: the old pods gone", lambda: _settled(life, service, set(before)), 180, interval=1)
        time.sleep(2)
    _loop_figures(f"{service}: a user's key added, the pods rolled", loop.stop())
    after = _serving_pods(life, service)
    assert not set(after) & set(before), f"both pods rolled: {before} -> {after}"
    secret = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", "secret", f"{service}-env", "-o", "json"))
    assert "MY_AGENT_KEY" in secret["data"], "the new key is in the mode's Secret"


def _state_resource(life: Life, name: str) -> dict[str, Any]:
    """The outputs of the stack's resource ``name``, from its state."""
    state = json.loads(life.engine.run("stack", "export", "--stack", STACK).stdout)
    (found,) = [r for r in state["deployment"]["resources"] if r["urn"].endswith(f"::{name}")]
    return dict(found.get("outputs") or {})


def test_a_users_project_is_baked_pushed_rolled_and_served_by_every_replica(life: Life) -> None:
    """apiProjectDir on a cluster, a folder per mode: one image per distinct project (workspace and
    agent the same, genie its own) built over the app image and pushed one after the other; up rolls
    the pods to it with no failed request; every replica lists the project's agent; the project's
    .env is in no layer of the image."""
    app_image = _state_resource(life, "hive-api-image")["name"]
    made = user_project(app_image, life.engine.root / "user-project", PROJECT_AGENT, f"{STACK_LABEL}={PG_OWNER}")
    (made / ".env").write_text(f"OPENAI_API_KEY={PROJECT_SECRET}\n")
    projects = life.engine.root / "projects"
    for mode in SERVICES:
        shutil.copytree(made, projects / mode, symlinks=True)
    (projects / "genie" / "GENIE.md").write_text("genie's own project\n")
    service = SERVICES[LOOP_MODE]
    url = _apis(life, life.outputs())[LOOP_MODE].base_url + "/health"
    before = {name: set(_serving_pods(life, name)) for name in SERVICES.values()}
    life.engine.run("config", "set", "--stack", STACK, "hive:apiProjectDir", f"{projects}/{{mode}}")
    with RequestLoop(url, LOOP_COUNT, LOOP_SECONDS) as loop:
        time.sleep(2)
        life.pulumi("up", "--yes", "--skip-preview")
        poll(f"{service}: the old pods gone", lambda: _settled(life, service, before[service]), 180, interval=1)
        time.sleep(2)
    _loop_figures(f"{service}: a project set, the pods rolled", loop.stop())
    # up returns once each new ReplicaSet is ready; an old pod may not be told to stop yet.
    for name, old in before.items():
        poll(f"{name}: the old pods gone", lambda name=name, old=old: _settled(life, name, old), 180, interval=1)
    keys = life.outputs()["apiKeys"]
    images = {}
    for mode, name in SERVICES.items():
        listing = life.cluster.kubectl("-n", NAMESPACE, "get", "pods", "-l", f"{APP_LABEL}={name}", "-o", "json")
        serving = [p for p in json.loads(listing)["items"] if "deletionTimestamp" not in p["metadata"]]
        assert len(serving) == 2, f"{mode}: two replicas"
        images[mode] = {p["spec"]["containers"][0]["image"] for p in serving}
        assert len(images[mode]) == 1 and "/hive-project@sha256:" in next(iter(images[mode])), images
        for pod in serving:
            api = ModeApi(mode, f"http://{pod['status']['podIP']}:{SERVICE_PORTS[mode]}", {"HIVE_API_KEY": keys[mode]})
            assert PROJECT_AGENT in hive_app.agent_ids(api), f"{mode}'s {pod['metadata']['name']} serves the project"
    assert images["workspace"] == images["agent"] != images["genie"], f"one image per distinct project: {images}"
    pushed = _state_resource(life, "hive-kubernetes-workspace-project-build")["name"]
    saved = subprocess.run(["docker", "save", pushed], capture_output=True, timeout=300, check=True).stdout
    assert len(saved) > 1_000_000, f"docker save gave the image's layers ({len(saved)} bytes)"
    assert PROJECT_SECRET.encode() not in saved, "the project's .env is in no layer of the image"


def test_the_api_server_accepts_each_modes_ingress_and_policy(life: Life) -> None:
    """Acceptance only: the tier's CNI enforces no policy and no ingress controller runs here."""
    edges = {"ingressDomain": "hive.tier.test", "ingressTls": "hive-tier-tls", "egressPostgresCidr": HOST_IP}
    for key, value in edges.items():
        life.engine.run("config", "set", "--stack", STACK, f"hive:{key}", "--", value)
    life.pulumi("up", "--yes", "--skip-preview")
    for kind in ("ingress", "networkpolicy"):
        listing = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", kind, "-o", "json"))["items"]
        assert sorted(i["metadata"]["name"] for i in listing) == sorted(SERVICES.values()), f"a {kind} per mode"
    policy = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", "networkpolicy", SERVICES["agent"], "-o", "json"))
    assert policy["spec"]["egress"][1]["to"] == [{"ipBlock": {"cidr": f"{HOST_IP}/32"}}]
    ingress = json.loads(life.cluster.kubectl("-n", NAMESPACE, "get", "ingress", SERVICES["agent"], "-o", "json"))
    assert ingress["spec"]["rules"][0]["host"] == f"{SERVICES['agent']}.hive.tier.test"


def test_a_second_up_changes_nothing(life: Life) -> None:
    life.pulumi("up", "--yes", "--skip-preview", "--expect-no-changes")


def test_destroy_leaves_the_data_and_the_user_lines(life: Life) -> None:
    outputs = life.outputs()
    started = time.monotonic()
    life.pulumi("destroy", "--yes", "--skip-preview")
    assert not life.cluster.has_namespace(NAMESPACE), (
        f"the namespace is gone after destroy ({time.monotonic() - started:.0f}s)"
    )
    for mode, database in outputs["databases"].items():
        with psycopg.connect(life.admin_dsn(database)) as conn:
            row = conn.execute(f"SELECT count(*) FROM {hive_app.AGNO_SCHEMA}.{hive_app.MEMORY_TABLE}").fetchone()
        assert row is not None and row[0] == 1, f"{mode}'s database and its memory outlive the destroy"
    assert USER_LINE in (life.engine.program / ".env").read_text(), "the user's own line stays in .env"
