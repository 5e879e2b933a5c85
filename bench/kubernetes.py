"""Kubernetes mode of the bench (``bench/engine.py``; the Kubernetes tier's
``tests/kubernetes/test_bench.py`` runs it once too).

On the tier's one-node cluster (``scripts/cluster.sh up``): up from nothing, no-op up
and destroy of the project's stack with ``platform=kubernetes``, configured as the tier
configures it (external mode against a managed PostgreSQL container on the veth
address, the API image built on the tier's Python base and pushed to the cluster's
registry, the three modes with two replicas each), beside the tier's minimal program
(``tests/kubernetes/program``: a Namespace, a Deployment of two replicas of the smoke
image, a Service). Each round of the stack gets a new PostgreSQL container (started
and removed outside the timings), so that every ``up`` creates its databases afresh.

The namespaces, the container name and the port are the bench's own; one already
taken is refused, never freed. What the bench made is removed at the end, even after
a failure.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from bench.rounds import UP_STEPS, lifecycle, median
from hive_infra.core.names import STACK_LABEL
from tests.support.cluster import Cluster, ClusterUnavailable, find_cluster, plugin_bin, program_engine
from tests.support.dockerlib import (
    DockerUnavailable,
    TierImages,
    build_images,
    docker,
    engine_answers,
    inspect,
    port_holder,
    port_in_use,
    provide_wheels,
)
from tests.support.engine import Engine
from tests.support.kubestack import HOST_IP, kubernetes_stack_config, push_smoke_image, start_managed_postgres

STEPS = UP_STEPS
STACK = "bench"
#: The project's stack's namespace, and the minimal program's.
HIVE_NAMESPACE = "hive-bench-k8s"
ONE_NAMESPACE = "hive-bench-k8s-one"
#: The managed PostgreSQL of the bench (the tier's are hive-k8s-tier-postgres on 55433).
PG_CONTAINER = "hive-bench-k8s-postgres"
PG_OWNER = "hive/bench-k8s"
PG_PORT = 55434
#: A timeout per command: the first ``up`` builds and pushes the API image.
TIMEOUT_SECONDS = 1200.0


class NotMeasured(RuntimeError):
    """What Kubernetes mode needs is not here (no cluster, plugin, Docker engine or images)."""


@dataclass(frozen=True)
class Needs:
    cluster: Cluster
    #: The folder of the built pulumi-resource-kubernetes.
    plugins: Path
    images: TierImages


@dataclass(frozen=True)
class Figures:
    """The median seconds of each step: the project's stack, the minimal program."""

    hive: dict[str, float]
    one: dict[str, float]


def find_needs() -> Needs:
    """The cluster, the plugin and the Docker tier's images; NotMeasured with the reason."""
    try:
        cluster, plugins = find_cluster(), plugin_bin()
    except ClusterUnavailable as exc:
        raise NotMeasured(str(exc).splitlines()[0]) from exc
    why = engine_answers()
    if why is not None:
        raise NotMeasured(f"no Docker engine answers: {why}")
    try:
        return Needs(cluster, plugins, build_images())
    except DockerUnavailable as exc:
        raise NotMeasured(f"the test images cannot be built: {str(exc).splitlines()[0]}") from exc


def namespaces_left(cluster: Cluster) -> list[str]:
    """Which of the bench's namespaces exist (terminating ones too)."""
    return [ns for ns in (HIVE_NAMESPACE, ONE_NAMESPACE) if cluster.has_namespace(ns)]


def refuse_if_taken(cluster: Cluster) -> None:
    """AssertionError naming what is taken: a namespace of the bench's, its container name or port."""
    problems = [f"namespace {ns} exists" for ns in namespaces_left(cluster)]
    if inspect(PG_CONTAINER) is not None:
        problems.append(f"a container named {PG_CONTAINER} exists (one a killed bench left carries {PG_OWNER})")
    if port_in_use(PG_PORT, HOST_IP):
        problems.append(f"port {HOST_IP}:{PG_PORT} is held by {port_holder(PG_PORT)}")
    if problems:
        raise AssertionError(
            "the Kubernetes bench uses names of its own; one is taken (it frees nothing it did not make): "
            + "; ".join(problems)
        )


def hive_round(needs: Needs, bin_dir: Path, root: Path) -> dict[str, float]:
    """One round of the project's stack, against a managed PostgreSQL of its own."""
    password = secrets.token_urlsafe(24)
    start_managed_postgres(needs.images, PG_CONTAINER, PG_OWNER, PG_PORT, password)
    try:
        path = f"{needs.plugins}:{bin_dir}:/usr/local/bin:/usr/bin:/bin"
        engine = Engine(bin_dir, root, {"PATH": path})
        provide_wheels(needs.images, engine.program)
        config = kubernetes_stack_config(needs.images, needs.cluster, HIVE_NAMESPACE, PG_PORT)
        engine.init_stack(STACK, config, {"adminPassword": password})
        return lifecycle(engine, STACK, STEPS, TIMEOUT_SECONDS)
    finally:
        remove_own_postgres()


def remove_own_postgres() -> None:
    """The bench's PostgreSQL container, if there is one and it carries the bench's label."""
    found = inspect(PG_CONTAINER)
    if found is not None and (found["Config"].get("Labels") or {}).get(STACK_LABEL) == PG_OWNER:
        docker("rm", "-f", "-v", PG_CONTAINER, check=False)


def one_round(needs: Needs, image: str, bin_dir: Path, root: Path) -> dict[str, float]:
    """One round of the minimal program: its Deployment of the smoke image, in a namespace of its own."""
    engine = program_engine(bin_dir, needs.plugins, root, {"KUBECONFIG": str(needs.cluster.kubeconfig)})
    engine.run("stack", "init", STACK)
    engine.run("config", "set", "--stack", STACK, "image", image)
    engine.run("config", "set", "--stack", STACK, "namespace", ONE_NAMESPACE)
    return lifecycle(engine, STACK, STEPS, TIMEOUT_SECONDS)


def kubernetes_mode(runs: int, bin_dir: Path, needs: Needs, root: Path) -> Figures:
    """``runs`` rounds of the project's stack, then of the minimal program, on the same
    cluster; the medians. Refuses before anything is made when a name is taken; removes
    the namespaces and the container it made, even after a failure."""
    refuse_if_taken(needs.cluster)
    try:
        image = push_smoke_image(needs.cluster, needs.images)
        hive = [hive_round(needs, bin_dir, root / f"hive-k8s-{i}") for i in range(runs)]
        one = [one_round(needs, image, bin_dir, root / f"one-k8s-{i}") for i in range(runs)]
        return Figures(median(hive, STEPS), median(one, STEPS))
    finally:
        for ns in namespaces_left(needs.cluster):
            needs.cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
        remove_own_postgres()
