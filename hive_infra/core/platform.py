"""Where the API runs (``platform``), and every Kubernetes name the stack gives.

``docker`` (the default) runs one API container per mode on this machine's
Docker; ``kubernetes`` runs each mode as a Deployment behind a ClusterIP
Service on a cluster, against a managed PostgreSQL (docs/kubernetes.md).
The Services keep the Docker containers' names (``hive-agents``, ...), so a
program that reached a container by name reaches the Service by the same one.
Pure: no Pulumi.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hive_infra.core.modes import Mode

DOCKER_PLATFORM = "docker"
KUBERNETES_PLATFORM = "kubernetes"
PLATFORMS = (DOCKER_PLATFORM, KUBERNETES_PLATFORM)

#: A DNS-1123 label: what Kubernetes accepts as a namespace or a Secret's name.
DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
#: A DNS-1035 label: what a Service's name must be (a letter first).
SERVICE_NAME = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
#: A Kubernetes resource quantity (``250m``, ``512Mi``, ``1``, ``1.5G``).
QUANTITY = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
#: A registry and optional path the built image is pushed under: ``host[:port][/path]``.
REGISTRY = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")

#: The label every object of a mode carries, and its Deployment selects its pods by.
APP_LABEL = "app.kubernetes.io/name"
#: The label that says which stack an object is of (``STACK_LABEL``'s value, made a label value).
STACK_LABEL_KEY = "app.kubernetes.io/instance"
#: The pod template's annotation holding a hash of the mode's Secret: a changed Secret rolls the pods.
SECRET_CHECKSUM_ANNOTATION = "hive.automagik.dev/secret-checksum"
#: The image's user (``hive``, uid 1000 in hive_infra/image/Dockerfile): runAsNonRoot needs the number.
APP_UID = 1000


@dataclass(frozen=True)
class KubernetesNames:
    """The Kubernetes names of one stack: the namespace, and per mode the names derived from
    the Docker container's (``namePrefix``)."""

    namespace: str
    prefix: str

    def service(self, mode: Mode) -> str:
        """The mode's Service and Deployment: the Docker container's name (``hive-agents``)."""
        return f"{self.prefix}-{mode.api_container_suffix}"

    def secret(self, mode: Mode) -> str:
        """The mode's Secret: its .env entries and the user's own keys."""
        return f"{self.service(mode)}-env"

    def budget(self, mode: Mode) -> str:
        return f"{self.service(mode)}-pdb"

    @property
    def pull_secret(self) -> str:
        return f"{self.prefix}-registry"

    def every_name(self, modes: tuple[Mode, ...]) -> tuple[str, ...]:
        return tuple(n for m in modes for n in (self.service(m), self.secret(m), self.budget(m)))


def kubernetes_names(namespace: str | None, prefix: str) -> KubernetesNames:
    """The names, with the namespace defaulting to ``namePrefix``."""
    return KubernetesNames(namespace or prefix, prefix)


def pushed_image(registry: str, tag: str) -> str:
    """The name an image built here is pushed as: its repository's last part and its tag under
    ``registry`` (``hive-infra/hive-api:<version>-<digest>`` -> ``<registry>/hive-api:<version>-<digest>``,
    ``hive-infra/hive-project:<digest>`` -> ``<registry>/hive-project:<digest>``)."""
    repository, tag_part = tag.rsplit(":", 1)
    return f"{registry}/{repository.rsplit('/', 1)[-1]}:{tag_part}"


def registry_host(reference: str) -> str:
    """The registry part of ``imageRegistry`` or of an image reference (``host[:port]``)."""
    return reference.split("/", 1)[0]


def registry_address(reference: str) -> str:
    """The registry's address as the docker provider asks it for a pushed image's digest: plain
    HTTP for one on this machine's loopback (as Docker itself allows), else HTTPS."""
    host = registry_host(reference)
    loopback = host.startswith(("127.", "localhost", "[::1]"))
    return f"{'http' if loopback else 'https'}://{host}"


def label_value(value: str) -> str:
    """``value`` as a label value (63 characters of ``[A-Za-z0-9_.-]``): ``/`` made ``.``."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", ".", value)[:63]
    return cleaned.strip("_.-") or "hive"


def in_cluster_url(service: str, namespace: str, port: int) -> str:
    """A mode's API as a pod of the cluster reaches it (the Service's DNS name)."""
    return f"http://{service}.{namespace}.svc.cluster.local:{port}"
