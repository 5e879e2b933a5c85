"""The smoke Deployment and Service declared by a Pulumi program (``program/``) under the
real engine with the pulumi-kubernetes plugin built here: ``up`` awaits the rollout, a
second ``up`` changes nothing, ``destroy`` leaves nothing in the cluster."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.kubernetes.conftest import TIMINGS
from tests.support.cluster import Cluster, http_get, poll, program_engine

STACK = "k8s"


def test_up_noop_and_destroy_of_a_deployment_and_service(
    cluster: Cluster, smoke_image: str, pulumi_bin: Path, kubernetes_plugin: Path, tmp_path: Path
) -> None:
    namespace = f"pulumi-{uuid.uuid4().hex[:8]}"
    engine = program_engine(pulumi_bin, kubernetes_plugin, tmp_path / "engine", {"KUBECONFIG": str(cluster.kubeconfig)})
    engine.run("stack", "init", STACK)
    engine.run("config", "set", "--stack", STACK, "image", smoke_image)
    engine.run("config", "set", "--stack", STACK, "namespace", namespace)
    try:
        up = engine.run("up", "--yes", "--skip-preview", "--stack", STACK)
        TIMINGS.append(("pulumi up (Namespace, Deployment awaited, Service)", up.seconds))
        assert f"{kubernetes_plugin}/pulumi-resource-kubernetes" in up.output, (
            f"the engine ran the plugin built here, found on PATH (never downloaded): {up.output[-1500:]}"
        )
        outputs = engine.outputs(STACK)
        assert outputs["ready_replicas"] == 2, f"up returned once both replicas were ready: {outputs}"
        answer = poll("the Service answers from the host", lambda: http_get(f"http://{outputs['cluster_ip']}/"), 30)
        assert answer.startswith("hello from web-"), f"the program's pods serve: {answer!r}"

        noop = engine.run("up", "--yes", "--skip-preview", "--expect-no-changes", "--stack", STACK)
        TIMINGS.append(("pulumi up, no changes", noop.seconds))

        destroy = engine.run("destroy", "--yes", "--skip-preview", "--stack", STACK)
        TIMINGS.append(("pulumi destroy", destroy.seconds))
        assert not cluster.has_namespace(namespace), f"destroy waited until the namespace {namespace} was gone"
        resources = json.loads(engine.run("stack", "export", "--stack", STACK).stdout)["deployment"].get("resources")
        assert not resources, f"the stack's state holds nothing after destroy: {resources}"
    finally:
        if cluster.has_namespace(namespace):
            cluster.kubectl("delete", "namespace", namespace, "--wait=false")
