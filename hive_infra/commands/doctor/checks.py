"""The doctor's verdicts: pure functions from what was found to ``ok``/``FAIL``/``warn`` lines.

Nothing here touches the machine: ``probe`` gathers the facts (the Pulumi CLI,
the environment, the stack's config, Docker, the ports, the disk) as plain
values, and each function below turns some of them into verdicts, each with
the fix a person needs. Messages never hold a secret (a passphrase is only
ever "set" or "not set").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hive_infra.config import NAMESPACE, ConfigError, HiveConfig, parse_config
from hive_infra.core.modes import MODES
from hive_infra.core.names import LEGACY_NAMES, STACK_LABEL
from hive_infra.legacy.containers import ContainerInfo, stack_ports

OK, FAIL, WARN = "ok", "FAIL", "warn"
GIB = 1 << 30
#: Free space below which `up` may fail half way (the API image and pgvector pull about 1.5 GiB).
MIN_FREE_BYTES = 2 * GIB
#: Stands for a secret that ``pulumi config --json`` elides (it is read without
#: ``--show-secrets``): it passes every secret rule, so only the other keys are
#: judged here; ``pulumi preview`` judges the secrets themselves.
HIDDEN_SECRET = "x" * 64
ADOPT_HINT = "adopt it first (docs/backups-and-migration.md: Adopting an existing installation)"


@dataclass(frozen=True)
class Verdict:
    status: str
    what: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4} {self.what}: {self.detail}"
        return f"{text}; fix: {self.fix}" if self.fix else text


# --- the facts probe gathers ---------------------------------------------------------------


@dataclass(frozen=True)
class PulumiFacts:
    #: The CLI's path, or None when it is not on PATH.
    path: str | None
    #: ``pulumi version``'s answer, or None when it failed (``error`` says why).
    version: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SecretsFacts:
    passphrase_set: bool
    #: ``PULUMI_CONFIG_PASSPHRASE_FILE``, when set, and whether it can be read.
    passphrase_file: str | None
    passphrase_file_readable: bool
    backend_url: str
    #: Where ``backend_url`` comes from: ``PULUMI_BACKEND_URL`` or ``Pulumi.yaml``.
    backend_source: str
    access_token_set: bool
    #: ``secretsprovider`` of ``Pulumi.<stack>.yaml`` (None: the backend's default).
    secrets_provider: str | None
    #: ``Pulumi.<stack>.yaml`` holds an ``encryptionsalt``: the passphrase provider.
    has_salt: bool


@dataclass(frozen=True)
class PortProbe:
    """Whether this machine let the doctor bind the port on ``bindAddress``."""

    bindable: bool
    #: errno name when it could not (``EADDRINUSE``, ``EADDRNOTAVAIL``, ``EACCES``, ...).
    error: str | None = None


@dataclass(frozen=True)
class DiskFacts:
    path: str
    free_bytes: int


# --- Pulumi --------------------------------------------------------------------------------

INSTALL_FIX = "install it (https://www.pulumi.com/docs/install/) or point HIVE_PULUMI at it"


def check_pulumi(facts: PulumiFacts) -> Verdict:
    if facts.path is None:
        return Verdict(FAIL, "Pulumi CLI", "not on PATH", INSTALL_FIX)
    if facts.version is None:
        return Verdict(FAIL, "Pulumi CLI", f"`{facts.path} version` failed: {facts.error}", INSTALL_FIX)
    return Verdict(OK, "Pulumi CLI", f"{facts.version} at {facts.path}")


def _is_cloud(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def check_secrets(facts: SecretsFacts) -> Verdict:
    """The stack's secrets can be decrypted without a prompt."""

    def secrets(status: str, detail: str, fix: str = "") -> Verdict:
        return Verdict(status, "secrets", detail, fix)

    passphrase_fix = (
        "export PULUMI_CONFIG_PASSPHRASE='...' or PULUMI_CONFIG_PASSPHRASE_FILE=/path/to/file "
        "(lost it? docs/operations.md: Troubleshooting)"
    )
    if facts.passphrase_set:
        return secrets(OK, "PULUMI_CONFIG_PASSPHRASE is set")
    if facts.passphrase_file is not None and facts.passphrase_file_readable:
        return secrets(OK, f"PULUMI_CONFIG_PASSPHRASE_FILE ({facts.passphrase_file}) can be read")
    if facts.passphrase_file is not None:
        unreadable = f"PULUMI_CONFIG_PASSPHRASE_FILE names {facts.passphrase_file}, which cannot be read"
        return secrets(FAIL, unreadable, "point it at a readable file holding the passphrase")
    provider = facts.secrets_provider
    if provider and not provider.startswith("passphrase"):
        return secrets(OK, f"the stack's secrets provider is {provider.split('://', 1)[0]}: no passphrase needed")
    if facts.has_salt:
        return secrets(
            FAIL, "the stack encrypts with a passphrase and none is set (pulumi would prompt)", passphrase_fix
        )
    if _is_cloud(facts.backend_url) and facts.access_token_set:
        return secrets(OK, f"Pulumi Cloud ({facts.backend_url}) keeps them; PULUMI_ACCESS_TOKEN is set")
    if _is_cloud(facts.backend_url):
        no_token = f"backend {facts.backend_url} without PULUMI_ACCESS_TOKEN"
        return secrets(WARN, no_token, "run `pulumi login` once, or export PULUMI_ACCESS_TOKEN")
    uses_one = f"no passphrase set, and backend {facts.backend_url} (from {facts.backend_source}) uses one"
    return secrets(FAIL, uses_one, passphrase_fix)


def raw_config(listing: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """``pulumi config --json`` (without secrets) as ``parse_config`` takes it:
    the ``hive`` keys' raw strings, a hidden secret as ``HIDDEN_SECRET``."""
    prefix = f"{NAMESPACE}:"
    raw: dict[str, str] = {}
    for full_key, entry in listing.items():
        if not full_key.startswith(prefix) or not isinstance(entry, Mapping):
            continue
        key = full_key[len(prefix) :]
        value = entry.get("value")
        if value is None and entry.get("secret"):
            value = HIDDEN_SECRET
        if value is not None:
            raw[key] = str(value)
    return raw, sorted(raw)


def is_missing_stack(reason: str) -> bool:
    """The CLI's answer for a stack that does not exist yet (``make up`` creates it)."""
    return "no stack named" in reason


def check_config(listing: Mapping[str, Any] | str, stack: str | None) -> tuple[HiveConfig | None, list[Verdict]]:
    """The stack's configuration, validated exactly as the program validates it."""
    what = f"config of stack {stack}" if stack else "config"
    if isinstance(listing, str):
        return None, [
            Verdict(
                FAIL,
                what,
                f"cannot be read: {listing}",
                "create or select the stack (`pulumi stack select --create dev`; `make up` does it)",
            )
        ]
    raw, known = raw_config(listing)
    try:
        cfg = parse_config(raw, known)
    except ConfigError as exc:
        return None, [Verdict(FAIL, what, problem, "see README: Configuration") for problem in exc.problems]
    hidden = sum(1 for value in raw.values() if value == HIDDEN_SECRET)
    note = f" ({hidden} secret value{'s' if hidden != 1 else ''} left to `pulumi preview`)" if hidden else ""
    return cfg, [Verdict(OK, what, f"valid{note}")]


# --- Docker --------------------------------------------------------------------------------


def needs_docker(cfg: HiveConfig | None) -> bool:
    """The stack runs containers here (PostgreSQL's, or the API ones), or builds the image a
    cluster runs (platform=kubernetes without apiImage)."""
    if cfg is not None and cfg.kubernetes:
        return cfg.builds_api_image
    return cfg is None or not cfg.external or cfg.api_containers


def check_docker(containers: Sequence[ContainerInfo] | str | None, cfg: HiveConfig | None) -> Verdict:
    if not needs_docker(cfg):
        why = (
            "platform=kubernetes with apiImage"
            if cfg is not None and cfg.kubernetes
            else "external PostgreSQL, apiContainers=false"
        )
        return Verdict(OK, "Docker", f"not needed ({why})")
    if isinstance(containers, str) or containers is None:
        reason = containers or "not asked"
        fix = "start the Docker engine, or set DOCKER_HOST to one"
        if "permission denied" in reason.lower():
            fix = "add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again)"
        return Verdict(FAIL, "Docker", reason, fix)
    return Verdict(OK, "Docker", f"reachable ({len(containers)} containers)")


def ours(container: ContainerInfo, label: str) -> bool:
    return container.labels.get(STACK_LABEL) == label


def _legacy_names() -> set[str]:
    return {
        name
        for mode in MODES.values()
        for name in (LEGACY_NAMES.legacy_postgres_container(mode), LEGACY_NAMES.api_container(mode))
    }


def stack_container_names(cfg: HiveConfig) -> set[str]:
    """The containers the stack creates, by name."""
    names = set() if cfg.external else {cfg.names.postgres_container}
    if cfg.api_containers and not cfg.kubernetes:
        names |= {cfg.names.api_container(m) for m in cfg.mode_table}
    return names


def check_containers(containers: Sequence[ContainerInfo], cfg: HiveConfig, label: str) -> list[Verdict]:
    """Containers in the way: one with a name the stack creates that is not the
    stack's (Docker refuses a second), and running legacy hive containers."""
    verdicts = []
    ours_by_name = stack_container_names(cfg)
    legacy = _legacy_names()
    for c in containers:
        if c.name in ours_by_name and not ours(c, label):
            hint = f"{ADOPT_HINT}, then " if c.name in legacy else ""
            verdicts.append(
                Verdict(
                    FAIL,
                    f"container {c.name}",
                    f"exists [{c.status}] and is not this stack's: Docker refuses a second container of that name",
                    f"{hint}`docker stop {c.name} && docker rm {c.name}`, or set hive:namePrefix",
                )
            )
        elif c.name in legacy - ours_by_name and c.status == "running":
            verdicts.append(
                Verdict(
                    WARN,
                    f"container {c.name}",
                    "a legacy hive container is running",
                    f"{ADOPT_HINT}, then `docker stop {c.name}`",
                )
            )
    return verdicts or [Verdict(OK, "containers", "no legacy hive container and no clashing name")]


# --- ports ---------------------------------------------------------------------------------


def published_ports(cfg: HiveConfig) -> dict[int, str]:
    """The host ports the stack publishes on ``bindAddress``, with what each is for."""
    ports = stack_ports(cfg)
    if cfg.external:
        ports.pop(cfg.db_port, None)
    if cfg.kubernetes:
        return {}  # the API runs on the cluster: nothing is published here
    if not cfg.api_containers:
        ports = {p: what for p, what in ports.items() if p == cfg.db_port and not cfg.external}
    return ports


def _overlaps(host_ip: str, bind_address: str) -> bool:
    """A binding on ``host_ip`` takes the port from ``bind_address`` too."""
    try:
        host, bind = ipaddress.ip_address(host_ip or "0.0.0.0"), ipaddress.ip_address(bind_address)
    except ValueError:
        return True
    return host.is_unspecified or bind.is_unspecified or host == bind


def _publishers(containers: Sequence[ContainerInfo], port: int, bind_address: str) -> list[ContainerInfo]:
    found = []
    for c in containers:
        for host_port, text in c.ports:
            host_ip = text.split("->")[0].rsplit(":", 1)[0]  # "ip:port->container", as detect writes it
            if host_port == port and _overlaps(host_ip.strip("[]"), bind_address) and c not in found:
                found.append(c)
    return found


def _key_of(port: int, cfg: HiveConfig) -> str:
    return "hive:dbPort" if port == cfg.db_port else "hive:apiPort"


def check_port(
    port: int,
    purpose: str,
    probe: PortProbe,
    containers: Sequence[ContainerInfo] | None,
    cfg: HiveConfig,
    label: str,
) -> Verdict:
    what = f"port {cfg.bind_address}:{port} for {purpose}"
    publishers = _publishers(containers or (), port, cfg.bind_address)
    running = [c for c in publishers if c.status == "running" and not c.ports_when_started]
    others = [c for c in running if not ours(c, label)]
    if others:
        c = others[0]
        hint = f"{ADOPT_HINT}, then " if c.name in _legacy_names() else ""
        return Verdict(
            FAIL,
            what,
            f"in use by container {c.name} (not this stack's)",
            f"{hint}`docker stop {c.name}`, or change {_key_of(port, cfg)}",
        )
    if running:
        return Verdict(OK, what, f"held by this stack's {running[0].name}")
    if not probe.bindable:
        if probe.error == "EADDRNOTAVAIL":
            return Verdict(
                FAIL,
                what,
                f"{cfg.bind_address} is not an address of this machine",
                "set hive:bindAddress to one of its addresses (127.0.0.1, 0.0.0.0)",
            )
        if probe.error == "EACCES":
            return Verdict(WARN, what, "not tested: binding it needs privileges (Docker binds it as root)")
        by = " (Docker unreachable: cannot say by whom)" if containers is None else ""
        return Verdict(
            FAIL,
            what,
            f"in use by another program{by}",
            f"find it with `ss -ltnp 'sport = :{port}'` and stop it, or change {_key_of(port, cfg)}",
        )
    stopped = [c for c in publishers if c.ports_when_started and not ours(c, label)]
    if stopped:
        return Verdict(WARN, what, f"free, but the stopped container {stopped[0].name} takes it when started")
    return Verdict(OK, what, "free")


def check_ports(
    cfg: HiveConfig, probes: Mapping[int, PortProbe], containers: Sequence[ContainerInfo] | None, label: str
) -> list[Verdict]:
    return [
        check_port(port, purpose, probes[port], containers, cfg, label)
        for port, purpose in sorted(published_ports(cfg).items())
    ]


# --- disk ----------------------------------------------------------------------------------


def check_disk(disk: DiskFacts | str) -> Verdict:
    if isinstance(disk, str):
        return Verdict(WARN, "disk", f"free space not known: {disk}")
    free = disk.free_bytes / GIB
    if disk.free_bytes < MIN_FREE_BYTES:
        return Verdict(
            FAIL,
            "disk",
            f"{free:.1f} GiB free in {disk.path}; the images need about {MIN_FREE_BYTES // GIB} GiB",
            "free some space (`docker system prune` removes stopped containers and unused images)",
        )
    return Verdict(OK, "disk", f"{free:.1f} GiB free in {disk.path}")
