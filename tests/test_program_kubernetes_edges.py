"""platform=kubernetes under the mocks: the entry from outside (an Ingress per mode) and the
network policy (a NetworkPolicy per mode), each declared only when configured."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.mocks import reveal
from tests.support.program import ProgramRun, run_program

#: test_program_kubernetes' stack (a sibling module: not imported, the layers say so).
KUBERNETES: dict[str, Any] = {
    "dbPassword": "Zq8vN3kLm2Xc9Rt5Yw",
    "adminPassword": "Adm1n-Zq8vN3kLm2Xc9",
    "apiKeyBase": "k" * 43,
    "platform": "kubernetes",
    "postgresMode": "external",
    "postgresHost": "db.example.internal",
    "imageRegistry": "127.0.0.1:5055",
}
SERVICES = {"workspace": "hive-agents", "agent": "hive-agent-dev-server", "genie": "hive-genie-server"}
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PORTS = {"workspace": 8886, "agent": 38886, "genie": 48886}


@pytest.fixture(scope="module")
def edges() -> ProgramRun:
    return run_program(
        {
            **KUBERNETES,
            "ingressDomain": "hive.example.com",
            "ingressClass": "nginx",
            "ingressTls": "hive-tls",
            "egressPostgresCidr": "10.20.0.5",
        }
    )


def _inputs(run: ProgramRun, name: str) -> dict[str, Any]:
    return dict(reveal(run.named(name).inputs))


def _digestless(inputs: Any) -> str:
    """``inputs`` as text, the mocks' image digests (numbered by registration order) made one word."""
    return re.sub(r"sha256:[0-9a-f]+", "sha256:<digest>", repr(inputs))


def test_nothing_from_outside_nor_a_policy_unless_configured() -> None:
    run = run_program(KUBERNETES)
    assert not run.of_type(INGRESS), "no ingressDomain: no Ingress (the Service stays in-cluster)"
    assert not run.of_type(POLICY), "no egressPostgresCidr: no NetworkPolicy"


def test_each_mode_gets_an_ingress_at_its_service_under_the_domain(edges: ProgramRun) -> None:
    for mode, service in SERVICES.items():
        record = edges.named(f"hive-kubernetes-{mode}-ingress")
        assert record.parent == edges.named(f"hive-kubernetes-{mode}").urn, "a child of the mode's KubernetesApi"
        ingress = _inputs(edges, f"hive-kubernetes-{mode}-ingress")
        assert ingress["metadata"]["name"] == service and ingress["metadata"]["namespace"] == "hive"
        assert ingress["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}, (
            "up does not wait for an ingress controller to write an address (some never do)"
        )
        host = f"{service}.hive.example.com"
        assert ingress["spec"]["ingressClassName"] == "nginx"
        assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": "hive-tls"}]
        (rule,) = ingress["spec"]["rules"]
        assert rule["host"] == host, "one host per mode, named as its Service"
        (path,) = rule["http"]["paths"]
        assert (path["path"], path["pathType"]) == ("/", "Prefix")
        assert path["backend"] == {"service": {"name": service, "port": {"number": PORTS[mode]}}}


def test_an_ingress_without_class_or_tls_leaves_them_to_the_cluster() -> None:
    run = run_program({**KUBERNETES, "ingressDomain": "hive.example.com"})
    spec = _inputs(run, "hive-kubernetes-agent-ingress")["spec"]
    assert "ingressClassName" not in spec, "the cluster's default IngressClass"
    assert "tls" not in spec, "no TLS Secret named: plain HTTP"
    assert not run.of_type(POLICY)


def test_each_mode_gets_a_policy_in_on_its_port_out_to_dns_postgresql_and_https(edges: ProgramRun) -> None:
    for mode, service in SERVICES.items():
        record = edges.named(f"hive-kubernetes-{mode}-network-policy")
        assert record.parent == edges.named(f"hive-kubernetes-{mode}").urn, "a child of the mode's KubernetesApi"
        policy = _inputs(edges, f"hive-kubernetes-{mode}-network-policy")
        assert policy["metadata"]["name"] == service
        spec = policy["spec"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == service, "the mode's API pods"
        assert spec["policyTypes"] == ["Ingress", "Egress"], "both directions closed but for the rules"
        assert spec["ingress"] == [{"ports": [{"protocol": "TCP", "port": PORTS[mode]}]}], "in: the API port only"
        dns, postgres, https = spec["egress"]
        assert dns == {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
        assert postgres == {
            "to": [{"ipBlock": {"cidr": "10.20.0.5/32"}}],
            "ports": [{"protocol": "TCP", "port": 5532}],
        }, "the server's address as a one-address block, on dbPort"
        assert https == {"ports": [{"protocol": "TCP", "port": 443}]}, "the model providers, by port only"


def test_the_edges_change_nothing_else(edges: ProgramRun) -> None:
    """Adding them declares two children per mode and leaves every other object as it was."""
    plain = run_program(KUBERNETES)
    before = {r.urn: _digestless(reveal(r.inputs)) for r in plain.registrations if r.type.startswith("kubernetes:")}
    after = {
        r.urn: _digestless(reveal(r.inputs))
        for r in edges.registrations
        if r.type.startswith("kubernetes:") and r.type not in (INGRESS, POLICY)
    }
    assert set(after) == set(before)
    changed = [urn for urn in before if before[urn] != after[urn]]
    assert not changed, f"objects changed by the entry and policy keys: {changed}"
