"""The Kubernetes tier's view of the one-node cluster ``scripts/cluster.sh`` runs.

``cluster.sh up`` writes ``cluster.env`` (KUBECONFIG, KUBECTL, REGISTRY, NODE_IP,
SERVICE_CIDR) in its state folder; :func:`find_cluster` reads it and checks with
``cluster.sh status`` that the cluster is up. Nothing here starts or stops it.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.engine import PROJECT_DIR, Engine

CLUSTER_SCRIPT = PROJECT_DIR / "scripts" / "cluster.sh"
PLUGIN_SCRIPT = PROJECT_DIR / "scripts" / "build-pulumi-kubernetes.sh"
#: Set to 1 (CI) to make a missing cluster or plugin a failure instead of a skip.
REQUIRE_ENV = "HIVE_REQUIRE_KUBERNETES"
STATE_DIR = Path(os.environ.get("HIVE_CLUSTER_DIR", "/var/lib/hive-infra/cluster"))
#: The minimal Pulumi program the tier deploys (a Namespace, a Deployment, a Service).
PROGRAM_DIR = PROJECT_DIR / "tests" / "kubernetes" / "program"


class ClusterUnavailable(RuntimeError):
    """No cluster is up, or the pulumi-kubernetes plugin is not built."""


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    kubectl_bin: Path
    #: host:port of the registry: Docker pushes there, and the node pulls the same name.
    registry: str
    node_ip: str

    def kubectl(self, *args: str, check: bool = True, timeout: float = 60, stdin: str | None = None) -> str:
        """``kubectl ARGS`` as the cluster's admin; stdout, or AssertionError with the output."""
        cmd = [str(self.kubectl_bin), "--kubeconfig", str(self.kubeconfig), *args]
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def has_namespace(self, name: str) -> bool:
        """Whether the namespace ``name`` exists (a terminating one too)."""
        return bool(self.kubectl("get", "namespace", name, "--ignore-not-found", "-o", "name").strip())


def find_cluster() -> Cluster:
    """The cluster ``scripts/cluster.sh up`` started; ClusterUnavailable with the reason when it is not up."""
    env_file = STATE_DIR / "cluster.env"
    if not env_file.is_file():
        raise ClusterUnavailable(f"no cluster is up ({env_file} is missing; `sudo scripts/cluster.sh up` starts one)")
    done = subprocess.run(["bash", str(CLUSTER_SCRIPT), "status"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise ClusterUnavailable(f"scripts/cluster.sh status says it is not up:\n{done.stdout}{done.stderr}")
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return Cluster(Path(values["KUBECONFIG"]), Path(values["KUBECTL"]), values["REGISTRY"], values["NODE_IP"])


def plugin_bin() -> Path:
    """The folder of the built pulumi-resource-kubernetes (``build-pulumi-kubernetes.sh --print-bin``)."""
    done = subprocess.run(["bash", str(PLUGIN_SCRIPT), "--print-bin"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["not built"])[-1]
        raise ClusterUnavailable(f"{reason} (`make engine` builds it)")
    return Path(done.stdout.strip().splitlines()[-1])


def http_get(url: str, timeout: float = 3) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
    return body.decode()


def poll(what: str, probe: Callable[[], Any], seconds: float, interval: float = 0.5) -> Any:
    """``probe()``'s first truthy result, tried at most ``seconds / interval`` times; AssertionError
    naming ``what`` with the last error otherwise."""
    last: object = None
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / interval) + 1):
        try:
            result = probe()
            if result:
                return result
            last = result
        except (OSError, urllib.error.URLError, AssertionError) as exc:
            last = exc
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {seconds:.0f}s (last: {last!r})")


@dataclass
class LoopResult:
    """What a :class:`RequestLoop` saw: requests sent, the failed ones (the first few described)."""

    requests: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: True when the test stopped it; False when it ran into its count or time limit first.
    stopped: bool = False


class RequestLoop:
    """``GET url`` every ``interval`` seconds in a thread, a new connection each (so that each is
    routed afresh by the Service), until :meth:`stop`, at most ``count`` requests and ``seconds``
    seconds: it stops by itself. A failure is an error or an answer other than 200."""

    def __init__(self, url: str, count: int, seconds: float, interval: float = 0.05) -> None:
        self.url, self.count, self.seconds, self.interval = url, count, seconds, interval
        self.result = LoopResult()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="request-loop", daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while self.result.requests < self.count and time.monotonic() - started < self.seconds:
            if self._stop.is_set():
                self.result.stopped = True
                break
            self.result.requests += 1
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    response.read()
            except (OSError, http.client.HTTPException) as exc:  # an answer not 2xx is an HTTPError, an OSError
                self.result.failed += 1
                if len(self.result.errors) < 10:
                    self.result.errors.append(f"#{self.result.requests} at {time.monotonic() - started:.1f}s: {exc!r}")
            self._stop.wait(self.interval)
        self.result.seconds = time.monotonic() - started

    def __enter__(self) -> RequestLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> LoopResult:
        self._stop.set()
        self._thread.join(timeout=self.seconds + 10)
        return self.result


class ProgramEngine(Engine):
    """The real engine on the tier's own program (``PROGRAM_DIR``) instead of the project's."""

    def install_program(self, source: Path = PROGRAM_DIR) -> None:
        for item in PROGRAM_DIR.iterdir():
            if item.is_file():
                shutil.copy2(item, self.program / item.name)


def program_engine(engine_bin: Path, plugins: Path, root: Path, extra: Mapping[str, str]) -> ProgramEngine:
    """An engine whose PATH finds the built pulumi-resource-kubernetes first (Pulumi looks
    for a plugin on PATH before its cache, and never downloads one here)."""
    path = f"{plugins}:{engine_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    return ProgramEngine(engine_bin, root, extra_env={"PATH": path, **extra})
