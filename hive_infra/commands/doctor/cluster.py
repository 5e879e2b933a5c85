"""The doctor's checks of a platform=kubernetes stack: the cluster (reachable, a Ready node,
the namespace free or this stack's, each mode's Deployment there and ready), the registry
(reachable, the login accepted) and the managed PostgreSQL (reachable from here).

``cluster_facts`` asks the machine (``kubectl``, an HTTP request to the registry's
``/v2/``, a TCP connection to the server); ``check_cluster`` judges the facts. No
secret is printed: the registry's password is only ever used in a request.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hive_infra.commands.doctor.checks import FAIL, OK, WARN, Verdict
from hive_infra.commands.doctor.own import repair_fix
from hive_infra.config import HiveConfig
from hive_infra.core.platform import STACK_LABEL_KEY, label_value, registry_address, registry_host
from hive_infra.machine.executables import find_executable

TIMEOUT_SECONDS = 20
#: The stack's namespace in its state.
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
#: Why an object deleted by hand needs the repair.
NOT_SEEN_BY_UP = "a plain `pulumi up` does not look at the cluster (docs/kubernetes.md: Day two)"


@dataclass(frozen=True)
class ClusterFacts:
    #: ``kubectl get nodes``'s error, or None when it answered.
    cluster_error: str | None
    ready_nodes: int = 0
    #: The namespace's ``app.kubernetes.io/instance`` label ("" when it has none); None: it does not exist.
    namespace_owner: str | None = None
    #: The registry's ``/v2/`` answer: an HTTP status, or the error.
    registry_status: int | str | None = None
    #: The managed PostgreSQL's TCP connection error, or None when it connected.
    postgres_error: str | None = None
    #: The namespace's Deployments: ``{name: (ready pods, pods wanted)}``; None when not listed.
    deployments: Mapping[str, tuple[int, int]] | None = None
    #: The namespace's Services' names.
    services: frozenset[str] = frozenset()
    #: Whether the stack's state holds its Namespace (asked when the namespace is missing); None: not known.
    namespace_in_state: bool | None = None


def _kubectl(cfg: HiveConfig, environ: Mapping[str, str], *args: str) -> tuple[int, str, str]:
    name, path = find_executable("KUBECTL", "kubectl")
    if path is None:
        return 127, "", f"{name} is not on PATH"
    cmd = [path]
    if cfg.kubeconfig is not None:
        cmd += ["--kubeconfig", cfg.kubeconfig]
    if cfg.kube_context is not None:
        cmd += ["--context", cfg.kube_context]
    done = subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=dict(environ), check=False
    )
    return done.returncode, done.stdout, done.stderr


def _ready(node: Mapping[str, Any]) -> bool:
    conditions = node.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _registry_status(cfg: HiveConfig) -> int | str | None:
    """``GET /v2/`` on the registry, with the login when there is one (http for a loopback one)."""
    reference = cfg.image_registry or cfg.api_image
    if reference is None:
        return None
    request = urllib.request.Request(f"{registry_address(reference)}/v2/")
    if cfg.image_registry_user is not None and cfg.image_registry_password is not None:
        login = base64.b64encode(f"{cfg.image_registry_user}:{cfg.image_registry_password}".encode()).decode()
        request.add_header("Authorization", f"Basic {login}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError) as exc:
        return str(exc)


def cluster_facts(cfg: HiveConfig, environ: Mapping[str, str]) -> ClusterFacts:
    """What the cluster, the registry and the managed server answer."""
    try:
        code, out, err = _kubectl(cfg, environ, "get", "nodes", "-o", "json")
    except (OSError, subprocess.TimeoutExpired) as exc:
        code, out, err = 1, "", str(exc)
    if code != 0:
        facts = ClusterFacts(cluster_error=(err.strip().splitlines() or [f"kubectl exited {code}"])[-1])
    else:
        nodes = json.loads(out).get("items", [])
        code, out, _ = _kubectl(cfg, environ, "get", "namespace", cfg.kube_names.namespace, "-o", "json")
        owner = json.loads(out)["metadata"].get("labels", {}).get(STACK_LABEL_KEY, "") if code == 0 else None
        deployments, services = _workloads(cfg, environ) if owner is not None else (None, frozenset())
        facts = ClusterFacts(
            None, sum(1 for n in nodes if _ready(n)), owner, deployments=deployments, services=services
        )
    try:
        with socket.create_connection((cfg.postgres_host or "", cfg.db_port), timeout=TIMEOUT_SECONDS):
            postgres_error = None
    except OSError as exc:
        postgres_error = str(exc)
    return replace(facts, registry_status=_registry_status(cfg), postgres_error=postgres_error)


def _workloads(cfg: HiveConfig, environ: Mapping[str, str]) -> tuple[dict[str, tuple[int, int]] | None, frozenset[str]]:
    """The namespace's Deployments (their ready and wanted pods) and Services' names; None and
    nothing when kubectl cannot list them."""
    code, out, _ = _kubectl(cfg, environ, "-n", cfg.kube_names.namespace, "get", "deployments,services", "-o", "json")
    if code != 0:
        return None, frozenset()
    items = json.loads(out).get("items", [])
    deployments = {
        d["metadata"]["name"]: (int(d.get("status", {}).get("readyReplicas", 0)), int(d["spec"].get("replicas", 1)))
        for d in items
        if d.get("kind") == "Deployment"
    }
    return deployments, frozenset(i["metadata"]["name"] for i in items if i.get("kind") == "Service")


def check_cluster(cfg: HiveConfig, facts: ClusterFacts, project: str, stack: str) -> list[Verdict]:
    """The verdicts on the cluster, the namespace, the registry and the managed server."""
    verdicts = []
    if facts.cluster_error is not None:
        verdicts.append(
            Verdict(FAIL, "cluster", facts.cluster_error, "set hive:kubeconfig / hive:kubeContext (or KUBECONFIG)")
        )
    elif facts.ready_nodes == 0:
        verdicts.append(Verdict(FAIL, "cluster", "reachable, but no node is Ready", "`kubectl get nodes` says why"))
    else:
        verdicts.append(Verdict(OK, "cluster", f"reachable, {facts.ready_nodes} node(s) Ready"))
        ns, mine = cfg.kube_names.namespace, label_value(f"{project}.{stack}")
        if facts.namespace_owner is None and facts.namespace_in_state:
            gone = f"this stack's namespace is gone, with all in it (deleted by hand?); {NOT_SEEN_BY_UP}"
            verdicts.append(Verdict(WARN, f"namespace {ns}", gone, repair_fix(stack)))
        elif facts.namespace_owner is None:
            verdicts.append(Verdict(OK, f"namespace {ns}", "free: `up` creates it"))
        elif facts.namespace_owner == mine:
            verdicts.append(Verdict(OK, f"namespace {ns}", "this stack's"))
            verdicts += _workload_verdicts(cfg, facts, stack)
        else:
            verdicts.append(
                Verdict(FAIL, f"namespace {ns}", "exists and is not this stack's", "set hive:kubeNamespace")
            )
    verdicts.append(_registry_verdict(cfg, facts.registry_status))
    if facts.postgres_error is None:
        verdicts.append(Verdict(OK, "managed PostgreSQL", f"{cfg.postgres_host}:{cfg.db_port} answers from here"))
    else:
        verdicts.append(
            Verdict(
                FAIL,
                "managed PostgreSQL",
                f"{cfg.postgres_host}:{cfg.db_port}: {facts.postgres_error}",
                "check hive:postgresHost and hive:dbPort, and that this machine may connect",
            )
        )
    return verdicts


def _workload_verdicts(cfg: HiveConfig, facts: ClusterFacts, stack: str) -> list[Verdict]:
    """Each mode's Deployment or Service deleted by hand, or its pods not ready. As with the Docker
    stack's containers, a deployed stack is recognised by its Deployments: none there, it is not up yet."""
    names, found = cfg.kube_names, facts.deployments or {}
    services = [names.service(mode) for mode in cfg.mode_table]
    if not any(service in found for service in services):
        return []
    verdicts = []
    for service in services:
        for kind, there in (("Deployment", service in found), ("Service", service in facts.services)):
            if not there:
                gone = f"this stack's {kind} is gone (deleted by hand?); {NOT_SEEN_BY_UP}"
                verdicts.append(Verdict(WARN, f"{kind.lower()} {service}", gone, repair_fix(stack)))
        if service not in found:
            continue
        ready, wanted = found[service]
        if ready < wanted:
            logs = f"`kubectl -n {names.namespace} logs deploy/{service}` says why"
            verdicts.append(Verdict(WARN, f"deployment {service}", f"{ready} of {wanted} pods ready", logs))
        else:
            verdicts.append(Verdict(OK, f"deployment {service}", f"{ready} of {wanted} pods ready"))
    return verdicts


def _registry_verdict(cfg: HiveConfig, status: int | str | None) -> Verdict:
    if status is None:
        return Verdict(OK, "registry", "none needed")
    what = f"registry {registry_host(cfg.image_registry or cfg.api_image or '')}"
    if status == 200:
        return Verdict(OK, what, "reachable, the login accepted" if cfg.image_registry_user else "reachable")
    if status == 401:
        return Verdict(FAIL, what, "refuses the login", "set hive:imageRegistryUser and hive:imageRegistryPassword")
    if isinstance(status, int):
        return Verdict(WARN, what, f"answered HTTP {status} on /v2/")
    return Verdict(FAIL, what, f"not reachable: {status}", "check hive:imageRegistry")
