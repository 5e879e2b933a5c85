"""What the Kubernetes tier and the bench (``bench/kubernetes.py``) both set up on the
tier's cluster: the managed PostgreSQL the project's stack runs against, the smoke
image the minimal program deploys, and the config of a ``platform=kubernetes`` stack.

The managed server is a container of the Docker tier's PostgreSQL image (pgvector,
which the app's knowledge tables need and the host's throwaway server lacks)
published on the host-side veth address only, where both this machine and the pods
reach it, ``sslMode=disable``.
"""

from __future__ import annotations

import hashlib

import psycopg

from hive_infra.core.names import STACK_LABEL
from tests.support.cluster import Cluster, poll
from tests.support.dockerlib import TierImages, docker, inspect, port_holder, port_in_use, stack_config
from tests.support.engine import PROJECT_DIR

#: The host's end of the cluster's veth pair (scripts/cluster.sh): pods and this machine reach it.
HOST_IP = "198.18.0.1"
#: The smoke image's recipe (a one-file HTTP server on the tier's Python base).
SMOKE_IMAGE_DIR = PROJECT_DIR / "tests" / "kubernetes" / "image"


def start_managed_postgres(images: TierImages, name: str, owner: str, port: int, password: str) -> None:
    """A container ``name`` of the tier's PostgreSQL image, labelled ``owner`` (the stack label's
    value), published on ``HOST_IP:port`` only; returns once it accepts logins. A leftover
    container of the same name and label is the caller's own and is replaced; a container of
    that name that is not, or a held port, is refused (AssertionError), never removed."""
    found = inspect(name)
    if found is not None:
        if (found["Config"].get("Labels") or {}).get(STACK_LABEL) != owner:
            raise AssertionError(f"a container named {name} exists and is not {owner}'s: remove it first")
        docker("rm", "-f", "-v", name)
    if port_in_use(port, HOST_IP):
        raise AssertionError(f"port {HOST_IP}:{port} is held by {port_holder(port)}: free it first")
    docker(
        "run", "-d", "--name", name, "--label", f"{STACK_LABEL}={owner}", "-e", f"POSTGRES_PASSWORD={password}",
        "-p", f"{HOST_IP}:{port}:5432", images.postgres,
    )  # fmt: skip

    def accepts() -> bool:
        try:
            with psycopg.connect(f"host={HOST_IP} port={port} user=postgres password={password}", connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    poll("the managed PostgreSQL accepts logins on the veth address", accepts, 60)


def kubernetes_stack_config(images: TierImages, cluster: Cluster, namespace: str, port: int) -> dict[str, str]:
    """The project's stack on the cluster: ``platform=kubernetes`` in ``namespace``, external mode
    against the managed server on ``HOST_IP:port``, the API image built on the tier's Python
    base and pushed to the cluster's registry (the three modes, two replicas each: the defaults)."""
    config = stack_config(
        images,
        platform="kubernetes",
        kubeconfig=str(cluster.kubeconfig),
        kubeNamespace=namespace,
        postgresMode="external",
        postgresHost=HOST_IP,
        dbPort=str(port),
        sslMode="disable",
        imageRegistry=cluster.registry,
    )
    config.pop("postgresImage")  # external mode runs no PostgreSQL of its own
    return config


def smoke_image_name(cluster: Cluster, images: TierImages) -> str:
    """The smoke image's name in the cluster's registry, tagged by its base and recipe."""
    digest = hashlib.sha256(images.python_base.encode())
    for name in sorted(p.name for p in SMOKE_IMAGE_DIR.iterdir()):
        digest.update((SMOKE_IMAGE_DIR / name).read_bytes())
    return f"{cluster.registry}/hive-test/k8s-smoke:{digest.hexdigest()[:12]}"


def push_smoke_image(cluster: Cluster, images: TierImages) -> str:
    """The smoke image, built by ``docker build`` on the tier's Python base and pushed to the
    cluster's registry (both quick when nothing changed); the name the node pulls it by."""
    image = smoke_image_name(cluster, images)
    docker("build", "-q", "--build-arg", f"BASE={images.python_base}", "-t", image, str(SMOKE_IMAGE_DIR), timeout=300)
    docker("push", image, timeout=300)
    return image
