"""Kubernetes tier: a real one-node upstream Kubernetes (``scripts/cluster.sh``).

Tests here are marked ``kubernetes`` (``-m kubernetes`` selects them). They need the
cluster up (``.ci/run`` starts it), a Docker engine with the test images (``make
images``) to build the smoke image, and for the Pulumi test the engine and the
pulumi-kubernetes plugin (``make engine``). Without them the tier is skipped with
the reason; with ``HIVE_REQUIRE_KUBERNETES=1`` (``.ci/run``) it fails instead.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.cluster import REQUIRE_ENV, Cluster, ClusterUnavailable, find_cluster, plugin_bin
from tests.support.dockerlib import DockerUnavailable, TierImages, build_images, engine_answers
from tests.support.kubestack import push_smoke_image
from tests.support.require import report_timings, unavailable

#: Wall-clock seconds of the tier's steps, printed at the end of the session.
TIMINGS: list[tuple[str, float]] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report_timings(terminalreporter, "kubernetes tier", TIMINGS)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    try:
        return find_cluster()
    except ClusterUnavailable as exc:
        unavailable(REQUIRE_ENV, str(exc))


@pytest.fixture(scope="session")
def kubernetes_plugin() -> Path:
    try:
        return plugin_bin()
    except ClusterUnavailable as exc:
        unavailable(REQUIRE_ENV, f"the pulumi-kubernetes plugin is not built: {exc}")


@pytest.fixture(scope="session")
def tier_images() -> TierImages:
    """The Docker tier's images (built when missing, else reused in seconds)."""
    why = engine_answers()
    if why is not None:
        unavailable(REQUIRE_ENV, f"no Docker engine answers: {why}")
    try:
        return build_images()
    except DockerUnavailable as exc:
        unavailable(REQUIRE_ENV, f"the test images cannot be built: {exc}")


@pytest.fixture(scope="session")
def smoke_image(cluster: Cluster, tier_images: TierImages) -> str:
    """The smoke image, built by ``docker build`` on the local Python base and pushed to
    the cluster's registry; the name the node pulls it by."""
    started = time.monotonic()
    image = push_smoke_image(cluster, tier_images)
    TIMINGS.append(("smoke image built and pushed", time.monotonic() - started))
    return image
