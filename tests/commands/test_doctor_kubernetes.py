"""The doctor on a platform=kubernetes stack: the cluster's, the registry's and the managed
server's verdicts, and no Docker container asked for (only the image's build needs Docker)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from hive_infra.commands.contract import Context
from hive_infra.commands.doctor import checks, probe
from hive_infra.commands.doctor.checks import PulumiFacts
from hive_infra.commands.doctor.cluster import NAMESPACE_TYPE, ClusterFacts, check_cluster
from hive_infra.config import parse_config
from tests.support.program import KUBERNETES_VALUES as KUBERNETES
from tests.support.program import raw_config as raw

CFG = parse_config(raw(**KUBERNETES))
GOOD = ClusterFacts(None, ready_nodes=1, namespace_owner=None, registry_status=200, postgres_error=None)


def _statuses(facts: ClusterFacts) -> dict[str, str]:
    return {v.what: v.status for v in check_cluster(CFG, facts, "hive", "dev")}


def test_a_ready_cluster_a_free_namespace_a_registry_and_a_server_pass() -> None:
    assert set(_statuses(GOOD).values()) == {"ok"}, _statuses(GOOD)


def test_each_missing_part_fails_naming_it() -> None:
    assert _statuses(ClusterFacts("connection refused"))["cluster"] == "FAIL"
    assert _statuses(ClusterFacts(None, ready_nodes=0))["cluster"] == "FAIL", "a cluster with no Ready node"
    taken = ClusterFacts(None, 1, namespace_owner="other.stack", registry_status=200)
    assert _statuses(taken)["namespace hive"] == "FAIL", "another stack's namespace is not ours to take"
    mine = ClusterFacts(None, 1, namespace_owner="hive.dev", registry_status=200)
    assert _statuses(mine)["namespace hive"] == "ok", "this stack's own namespace"
    refused = ClusterFacts(None, 1, None, registry_status=401)
    assert _statuses(refused)["registry registry.example.com"] == "FAIL", "the registry refuses the login"
    down = ClusterFacts(None, 1, None, registry_status=200, postgres_error="timed out")
    assert _statuses(down)["managed PostgreSQL"] == "FAIL"


def test_no_docker_container_is_asked_for_and_no_port_published() -> None:
    assert checks.needs_docker(CFG), "the stack builds the image here: Docker is needed for that"
    with_image = parse_config(raw(**{**KUBERNETES, "apiImage": "registry.example.com/hive:1.0"}))
    assert not checks.needs_docker(with_image), "apiImage: nothing runs or builds on this machine's Docker"
    assert checks.stack_container_names(CFG) == set(), "no Docker container of the stack"
    assert checks.published_ports(CFG) == {}, "no port published here"


SERVICES = ("hive-agents", "hive-agent-dev-server", "hive-genie-server")


def _deployed(**deployments: tuple[int, int]) -> ClusterFacts:
    """This stack's namespace holding ``deployments`` (by name, with ``_`` for ``-``) and every Service."""
    found = {name.replace("_", "-"): pods for name, pods in deployments.items()}
    return ClusterFacts(None, 1, "hive.dev", 200, None, found, frozenset(SERVICES))


def test_a_deployed_stacks_deployments_and_services_are_each_checked() -> None:
    every = {name.replace("-", "_"): (2, 2) for name in SERVICES}
    verdicts = {v.what: v for v in check_cluster(CFG, _deployed(**every), "hive", "dev")}
    assert {verdicts[f"deployment {name}"].status for name in SERVICES} == {"ok"}, verdicts

    gone = {**every}
    del gone["hive_agent_dev_server"]
    said = {v.what: v for v in check_cluster(CFG, _deployed(**gone), "hive", "dev")}
    lost = said["deployment hive-agent-dev-server"]
    assert lost.status == "warn" and "gone" in lost.detail, "a Deployment deleted by hand: up would not see it"
    assert lost.fix == "make repair STACK=dev", "the one command that puts it back"

    no_service = ClusterFacts(None, 1, "hive.dev", 200, None, dict(_deployed(**every).deployments or {}),
                              frozenset(SERVICES[1:]))  # fmt: skip
    service = {v.what: v for v in check_cluster(CFG, no_service, "hive", "dev")}["service hive-agents"]
    assert service.status == "warn" and service.fix == "make repair STACK=dev", service

    starting = {**every, "hive_genie_server": (0, 2)}
    slow = {v.what: v for v in check_cluster(CFG, _deployed(**starting), "hive", "dev")}["deployment hive-genie-server"]
    assert slow.status == "warn" and slow.detail == "0 of 2 pods ready", slow
    assert slow.fix == "`kubectl -n hive logs deploy/hive-genie-server` says why", "its pods' logs say why"


def test_a_stack_not_up_yet_has_no_deployment_verdict() -> None:
    verdicts = check_cluster(CFG, _deployed(), "hive", "dev")
    assert not [v for v in verdicts if v.what.startswith(("deployment ", "service "))], (
        "no Deployment of the stack in its namespace: not deployed yet, nothing was deleted"
    )


def test_a_namespace_deleted_under_a_deployed_stack_is_named_with_the_repair() -> None:
    gone = ClusterFacts(None, 1, None, 200, None, namespace_in_state=True)
    verdict = {v.what: v for v in check_cluster(CFG, gone, "hive", "dev")}["namespace hive"]
    assert verdict.status == "warn" and "gone" in verdict.detail, "up would not make it again: the state holds it"
    assert verdict.fix == "make repair STACK=dev", verdict
    for never in (False, None):
        free = ClusterFacts(None, 1, None, 200, None, namespace_in_state=never)
        assert _statuses(free)["namespace hive"] == "ok", "a stack that never made it: up creates it"


def test_the_state_is_asked_whether_it_holds_the_namespace(tmp_path: Path) -> None:
    def fake(resources: list[dict[str, object]], code: int = 0) -> PulumiFacts:
        script = tmp_path / f"pulumi-{len(list(tmp_path.iterdir()))}"
        export = json.dumps({"deployment": {"resources": resources}})
        script.write_text(f"#!{sys.executable}\nimport sys\nprint({export!r})\nsys.exit({code})\n")
        script.chmod(0o755)
        return PulumiFacts(str(script))

    machine = Context(io.StringIO(), io.StringIO(), project_dir=tmp_path)
    namespace = {"type": NAMESPACE_TYPE, "urn": "urn:pulumi:dev::hive::kubernetes:core/v1:Namespace::ns"}
    assert probe.state_holds(machine, fake([namespace]), "dev", NAMESPACE_TYPE) is True
    assert probe.state_holds(machine, fake([{**namespace, "delete": True}]), "dev", NAMESPACE_TYPE) is False, (
        "a namespace pending deletion is not the stack's any more"
    )
    assert probe.state_holds(machine, fake([]), "dev", NAMESPACE_TYPE) is False
    assert probe.state_holds(machine, fake([namespace], code=1), "dev", NAMESPACE_TYPE) is None, "unreadable: unknown"
    assert probe.state_holds(machine, PulumiFacts(None), "dev", NAMESPACE_TYPE) is None
