"""``status`` on a platform=kubernetes stack: the in-cluster URLs and a port-forward line per mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.commands.test_status import deployed, fake_pulumi, outputs_of, run_status  # noqa: F401 - fixtures
from tests.support.fake_pulumi import FakePulumi

KUBERNETES = {
    "platform": "kubernetes",
    "postgresMode": "external",
    "postgresHost": "db.example.internal",
    "imageRegistry": "127.0.0.1:5055",
    "kubeNamespace": "team-a",
}


def test_status_prints_a_port_forward_line_per_mode(fake_pulumi: Callable[..., FakePulumi]) -> None:  # noqa: F811
    outputs: dict[str, Any] = outputs_of(KUBERNETES)
    fake_pulumi(outputs)
    code, out, err = run_status()
    assert code == 0, err
    assert "http://hive-agents.team-a.svc.cluster.local:8886" in out, "the in-cluster URL is the API URL"
    for service, port in (("hive-agents", 8886), ("hive-agent-dev-server", 38886), ("hive-genie-server", 48886)):
        assert f"kubectl -n team-a port-forward svc/{service} {port}:{port}" in out, f"{service}: how to reach it"
        assert f"kubectl -n team-a logs deploy/{service}" in out, f"{service}: where its pods say why they fail"


def test_a_docker_stack_prints_no_port_forward_line(fake_pulumi: Callable[..., FakePulumi]) -> None:  # noqa: F811
    fake_pulumi()
    code, out, _ = run_status()
    assert code == 0 and "port-forward" not in out, "a Docker stack publishes its ports on this machine"
