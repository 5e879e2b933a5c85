"""The cluster's own smoke test: the node is Ready, an image built here runs as a
2-replica Deployment pulled from the cluster's registry, its Service answers from the
host (both replicas), and ``kubectl logs`` and ``exec`` reach the containers."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.kubernetes.conftest import TIMINGS
from tests.support.cluster import Cluster, http_get, poll

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: smoke}}}}
  template:
    metadata: {{labels: {{app: smoke}}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: {image}
        ports: [{{containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /, port: 8080}}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {ns}}}
spec:
  selector: {{app: smoke}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


@pytest.fixture(scope="module")
def namespace(cluster: Cluster) -> Iterator[str]:
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=true", "--timeout=90s", timeout=120)


def test_the_node_is_ready(cluster: Cluster) -> None:
    node = json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    assert len(node) == 1, f"a one-node cluster has one node, got {[n['metadata']['name'] for n in node]}"
    ready = {c["type"]: c["status"] for c in node[0]["status"]["conditions"]}["Ready"]
    addresses = {a["type"]: a["address"] for a in node[0]["status"]["addresses"]}
    assert ready == "True", f"the kubelet reports the node Ready: {node[0]['status']['conditions']}"
    assert addresses["InternalIP"] == cluster.node_ip, f"the node address is the veth's: {addresses}"


def test_a_deployment_of_an_image_built_here_serves_from_the_host(
    cluster: Cluster, smoke_image: str, namespace: str
) -> None:
    started = time.monotonic()
    cluster.kubectl("apply", "-f", "-", stdin=MANIFEST.format(ns=namespace, image=smoke_image))
    cluster.kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=120s", timeout=150)
    TIMINGS.append(("smoke deployment rolled out (2 replicas)", time.monotonic() - started))
    pods = json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-l", "app=smoke", "-o", "json"))["items"]
    names = sorted(p["metadata"]["name"] for p in pods)
    assert len(names) == 2, f"2 replicas run: {names}"
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {smoke_image}, "the pods run the pushed image"

    cluster_ip = cluster.kubectl("get", "service", "web", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}")
    # The Service answers once kube-proxy has its rules; then both replicas answer in turn.
    first = poll("the Service answers from the host", lambda: http_get(f"http://{cluster_ip}/"), seconds=30)
    assert first.startswith("hello from "), f"the smoke server answered: {first!r}"
    # kube-proxy may program the second endpoint a moment after the first answers.
    answered: set[str] = set()

    def both_answer() -> bool:
        answered.update(http_get(f"http://{cluster_ip}/").split()[-1] for _ in range(10))
        return answered == set(names)

    try:
        poll("both replicas answer", both_answer, seconds=30)
    except AssertionError as exc:
        raise AssertionError(f"the Service balances over both replicas {names}; only {answered} answered") from exc

    logs = cluster.kubectl("logs", names[0], "-n", namespace)
    assert "smoke server listening on 8080" in logs, f"kubectl logs reads the container's stdout: {logs[-500:]!r}"
    hostname = cluster.kubectl("exec", names[0], "-n", namespace, "--", "python3", "-c",
                               "import socket; print(socket.gethostname())")  # fmt: skip
    assert hostname.strip() == names[0], f"kubectl exec runs in the pod: {hostname!r}"
