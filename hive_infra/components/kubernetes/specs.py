"""A mode's pod template and its parts, as the plain values ``pulumi_kubernetes`` takes.

No resource here: ``workload`` declares them. The values that come from other
resources (the image, the Secret's checksum) are passed in as they are.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hive_infra.components.api import HEALTH_PROBE
from hive_infra.core.names import APP_DATA_MOUNT, APP_LOGS_MOUNT
from hive_infra.core.platform import APP_LABEL, APP_UID, SECRET_CHECKSUM_ANNOTATION, STACK_LABEL_KEY

#: The probes' cadence, in seconds: the startup probe's failures are allowed for
#: ``apiHealthTimeout``; once started, three failed readiness probes take a pod out of
#: the Service and six failed liveness probes restart it.
PROBE_PERIOD = 5
PROBE_TIMEOUT = 5
READINESS_FAILURES = 3
LIVENESS_FAILURES = 6
#: A terminating pod keeps answering for ``PRESTOP_SECONDS`` (its preStop hook sleeps) while it
#: leaves the Service's endpoints and every node's proxy stops sending it new connections; then it
#: gets SIGTERM, and ``TERMINATION_GRACE_SECONDS`` in all (the hook included) to finish what it
#: serves before it is killed (docs/kubernetes.md: Upgrades with no failed request).
PRESTOP_SECONDS = 10
TERMINATION_GRACE_SECONDS = 60
CONTAINER_NAME = "api"
PORT_NAME = "http"


@dataclass(frozen=True)
class Resources:
    """Requests and limits of each API pod (``apiCpuRequest``, ...)."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def spec(self) -> dict[str, Any]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


def env_map(env: Sequence[str]) -> dict[str, str]:
    """``KEY=value`` strings (``rendering.container_env``) as the Secret's entries."""
    return dict(item.split("=", 1) for item in env)


def checksum(entries: Mapping[str, str]) -> str:
    """A hash of the Secret's entries, for the pod template's annotation: a changed Secret is a
    changed template, so the pods roll. It shows that a value changed, never the value (the
    entries hold the generated password and API key, too long to guess from a SHA-256)."""
    digest = hashlib.sha256()
    for key in sorted(entries):
        digest.update(f"{key}\0{entries[key]}\0".encode())
    return digest.hexdigest()


def labels(service: str, stack_label: str) -> dict[str, str]:
    return {APP_LABEL: service, STACK_LABEL_KEY: stack_label}


def _probe(path: str, failures: int) -> dict[str, Any]:
    return {
        "http_get": {"path": path, "port": PORT_NAME},
        "period_seconds": PROBE_PERIOD,
        "timeout_seconds": PROBE_TIMEOUT,
        "failure_threshold": failures,
    }


def container(
    image: Any, port: int, secret: str, health_path: str, health_timeout: int, resources: Resources
) -> dict[str, Any]:
    """The API container: its entries from the Secret (``envFrom``, never plain env), the probes on
    the health path, no privilege, the app's ``data/`` and ``logs/`` mounted."""
    return {
        "name": CONTAINER_NAME,
        "image": image,
        "ports": [{"name": PORT_NAME, "container_port": port}],
        "env_from": [{"secret_ref": {"name": secret}}],
        "resources": resources.spec(),
        "startup_probe": _probe(health_path, max(1, math.ceil(health_timeout / PROBE_PERIOD))),
        "readiness_probe": _probe(health_path, READINESS_FAILURES),
        "liveness_probe": _probe(health_path, LIVENESS_FAILURES),
        # ``sleep`` of the image (the built one is Debian's, with coreutils): an exec hook works on
        # every cluster version, where the ``sleep`` action needs 1.30 or later.
        "lifecycle": {"pre_stop": {"exec": {"command": ["sleep", str(PRESTOP_SECONDS)]}}},
        "security_context": {
            "allow_privilege_escalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volume_mounts": [
            {"name": "data", "mount_path": APP_DATA_MOUNT},
            {"name": "logs", "mount_path": APP_LOGS_MOUNT},
        ],
    }


def pod_template(
    pod_labels: Mapping[str, str], api_container: dict[str, Any], secret_checksum: Any, pull_secret: str | None
) -> dict[str, Any]:
    """The pod: non-root as the image's uid, RuntimeDefault seccomp, no service-account token,
    the Secret's checksum annotated, ``data/`` and ``logs/`` as the pod's own folders (emptyDir:
    kept across a container's restarts, not across the pod's replacement: docs/kubernetes.md)."""
    spec: dict[str, Any] = {
        "automount_service_account_token": False,
        "termination_grace_period_seconds": TERMINATION_GRACE_SECONDS,
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": APP_UID,
            "run_as_group": APP_UID,
            "fs_group": APP_UID,
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "containers": [api_container],
        "volumes": [{"name": "data", "empty_dir": {}}, {"name": "logs", "empty_dir": {}}],
    }
    if pull_secret is not None:
        spec["image_pull_secrets"] = [{"name": pull_secret}]
    return {
        "metadata": {"labels": dict(pod_labels), "annotations": {SECRET_CHECKSUM_ANNOTATION: secret_checksum}},
        "spec": spec,
    }


def deployment_spec(replicas: int, pod_labels: Mapping[str, str], template: dict[str, Any]) -> dict[str, Any]:
    """A rolling update that never takes a pod away before its replacement is ready."""
    return {
        "replicas": replicas,
        "selector": {"match_labels": dict(pod_labels)},
        "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
        "template": template,
    }


def service_spec(pod_labels: Mapping[str, str], port: int) -> dict[str, Any]:
    """A ClusterIP Service on the mode's API port."""
    return {
        "type": "ClusterIP",
        "selector": dict(pod_labels),
        "ports": [{"name": PORT_NAME, "port": port, "target_port": PORT_NAME}],
    }


#: The first start: the image's own command (``hive serve``, hive_infra/image/Dockerfile) run alone
#: until it answers its health path ($2, with the probe $1), then stopped; exit 0 once it answered,
#: 1 when the app exited first.
FIRST_START_SCRIPT = """hive serve & app=$!
until python3 -I -S -c "$1" "$2"; do
  kill -0 "$app" 2>/dev/null || exit 1
  sleep 2
done
kill -TERM "$app"; wait "$app"; exit 0"""


def first_start_pod(
    api_pod: dict[str, Any], port: int, health_path: str, job_labels: Mapping[str, str]
) -> dict[str, Any]:
    """The pod of the first-start Job: the API pod's spec (image, Secret, security context,
    folders) running ``FIRST_START_SCRIPT`` once, without the probes, never restarted."""
    # Neither the probes nor the drain on stop (no Service sends it a request): its template, and so
    # the Job, stays what it was before the drain existed.
    spec = {k: v for k, v in api_pod["spec"].items() if k != "termination_grace_period_seconds"}
    (api,) = spec["containers"]
    starter = {k: v for k, v in api.items() if not k.endswith("_probe") and k != "lifecycle"}
    starter["command"] = ["sh", "-c", FIRST_START_SCRIPT, "first-start"]
    starter["args"] = [HEALTH_PROBE, f"http://127.0.0.1:{port}{health_path}"]
    spec["containers"] = [starter]
    spec["restart_policy"] = "Never"
    # The Secret's checksum too: a changed Secret is a new first start, as it is a new rollout.
    return {"metadata": {"labels": dict(job_labels), "annotations": api_pod["metadata"]["annotations"]}, "spec": spec}


def docker_config_json(registry: str, user: str, password: str) -> str:
    """The ``.dockerconfigjson`` of an imagePullSecret for ``registry``."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return json.dumps({"auths": {registry: {"username": user, "password": password, "auth": auth}}})


#: HTTPS, the model providers' port: a policy names no DNS host, so the API may reach any address on it.
HTTPS_PORT = 443
DNS_PORT = 53


@dataclass(frozen=True)
class Entry:
    """A mode's Ingress: its host, the IngressClass (None: the cluster's default), a TLS Secret."""

    host: str
    class_name: str | None = None
    tls_secret: str | None = None


def ingress_spec(entry: Entry, service: str, port: int) -> dict[str, Any]:
    """Every path of ``entry.host`` to the mode's Service."""
    backend = {"service": {"name": service, "port": {"number": port}}}
    spec: dict[str, Any] = {
        "rules": [{"host": entry.host, "http": {"paths": [{"path": "/", "path_type": "Prefix", "backend": backend}]}}]
    }
    if entry.class_name is not None:
        spec["ingress_class_name"] = entry.class_name
    if entry.tls_secret is not None:
        spec["tls"] = [{"hosts": [entry.host], "secret_name": entry.tls_secret}]
    return spec


def network_policy_spec(
    pod_labels: Mapping[str, str], port: int, postgres_cidr: str, postgres_port: int
) -> dict[str, Any]:
    """The API pods take connections on the API port only (from anywhere: the ingress controller's
    namespace is the cluster's), and open them only to DNS, the PostgreSQL server and HTTPS."""
    return {
        "pod_selector": {"match_labels": dict(pod_labels)},
        "policy_types": ["Ingress", "Egress"],
        "ingress": [{"ports": [{"protocol": "TCP", "port": port}]}],
        "egress": [
            {"ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}]},
            {"to": [{"ip_block": {"cidr": postgres_cidr}}], "ports": [{"protocol": "TCP", "port": postgres_port}]},
            {"ports": [{"protocol": "TCP", "port": HTTPS_PORT}]},
        ],
    }
