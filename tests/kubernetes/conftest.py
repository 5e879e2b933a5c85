"""Kubernetes tier: a real one-node upstream Kubernetes (``scripts/cluster.sh``).

Tests here are marked ``kubernetes`` (``-m kubernetes`` selects them). They need the
cluster up (``.ci/run`` starts it), a Docker engine with the test images (``make
images``) to build the smoke image, and for the Pulumi test the engine and the
pulumi-kubernetes plugin (``make engine``). Without them the tier is skipped with
the reason; with ``HIVE_REQUIRE_KUBERNETES=1`` (``.ci/run``) it fails instead.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from tests.engine.conftest import pulumi_bin  # noqa: F401 - the real CLI the engine tier uses
from tests.support.cluster import REQUIRE_ENV, Cluster, ClusterUnavailable, find_cluster, plugin_bin
from tests.support.dockerlib import DockerUnavailable, build_images, docker, engine_answers

IMAGE_DIR = Path(__file__).resolve().parent / "image"
#: Wall-clock seconds of the tier's steps, printed at the end of the session.
TIMINGS: list[tuple[str, float]] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.write_sep("-", "kubernetes tier timings")
        for what, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f} s  {what}")


def _unavailable(why: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    try:
        return find_cluster()
    except ClusterUnavailable as exc:
        _unavailable(str(exc))
        raise


@pytest.fixture(scope="session")
def kubernetes_plugin() -> Path:
    try:
        return plugin_bin()
    except ClusterUnavailable as exc:
        _unavailable(f"the pulumi-kubernetes plugin is not built: {exc}")
        raise


@pytest.fixture(scope="session")
def smoke_image(cluster: Cluster) -> str:
    """The smoke image, built by ``docker build`` on the local Python base and pushed to
    the cluster's registry; the name the node pulls it by."""
    why = engine_answers()
    if why is not None:
        _unavailable(f"no Docker engine answers: {why}")
    try:
        base = build_images().python_base
    except DockerUnavailable as exc:
        _unavailable(f"the test images cannot be built: {exc}")
        raise
    digest = hashlib.sha256(base.encode())
    for name in sorted(p.name for p in IMAGE_DIR.iterdir()):
        digest.update((IMAGE_DIR / name).read_bytes())
    image = f"{cluster.registry}/hive-test/k8s-smoke:{digest.hexdigest()[:12]}"
    started = time.monotonic()
    docker("build", "-q", "--build-arg", f"BASE={base}", "-t", image, str(IMAGE_DIR), timeout=300)
    docker("push", image, timeout=300)
    TIMINGS.append(("smoke image built and pushed", time.monotonic() - started))
    return image
