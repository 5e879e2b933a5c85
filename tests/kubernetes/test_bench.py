"""The bench's Kubernetes mode (``bench/kubernetes.py``, the function ``make bench`` runs),
one round: up, no-op up and destroy of the project's stack and of the one-Deployment
program each take time and leave nothing behind. Its figures go to the tier's timings
(one round on a machine that also runs the tier: docs/testing.md has the bench's own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import kubernetes as bench
from tests.kubernetes.conftest import TIMINGS
from tests.support.cluster import Cluster
from tests.support.dockerlib import TierImages, inspect

pytestmark = pytest.mark.kubernetes


def test_the_kubernetes_bench_times_both_programs_and_leaves_nothing(
    cluster: Cluster, pulumi_bin: Path, kubernetes_plugin: Path, tier_images: TierImages, tmp_path: Path
) -> None:
    needs = bench.Needs(cluster, kubernetes_plugin, tier_images)
    figures = bench.kubernetes_mode(1, pulumi_bin, needs, tmp_path)
    for label, steps in (("hive stack (kubernetes)", figures.hive), ("one Deployment", figures.one)):
        for step, seconds in steps.items():
            TIMINGS.append((f"bench, {label}: pulumi {step}", seconds))
    for label, steps in (("the stack", figures.hive), ("the one-Deployment program", figures.one)):
        assert tuple(steps) == bench.STEPS, f"{label}: a time for each step: {steps}"
        assert all(seconds > 0 for seconds in steps.values()), f"{label}: every step took time: {steps}"
    assert bench.namespaces_left(cluster) == [], "each destroy waited until its namespace was gone"
    assert inspect(bench.PG_CONTAINER) is None, "the bench's PostgreSQL container is removed"
