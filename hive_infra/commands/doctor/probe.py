"""The doctor's one module of I/O: everything it asks the machine, as plain facts.

The Pulumi CLI (``pulumi version``, ``pulumi stack --show-name``, ``pulumi
config --json``, never with ``--show-secrets``), the environment (whether a
passphrase is set, never its value), ``Pulumi.yaml`` and the stack's file, the
Docker engine (through ``adopt``'s detection and an injectable client
factory), a bind on each port and the free disk space. ``checks`` judges them.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # a dependency of the pulumi SDK, without type stubs

from hive_infra.commands.contract import Context
from hive_infra.commands.doctor.checks import DiskFacts, PortProbe, PulumiFacts, SecretsFacts
from hive_infra.commands.doctor.images import ImageFacts, StackData
from hive_infra.commands.doctor.own import OwnFacts
from hive_infra.config import HiveConfig
from hive_infra.core import api_image
from hive_infra.core.names import STACK_LABEL, stack_label_value
from hive_infra.legacy.containers import ContainerInfo, list_containers
from hive_infra.machine.image_context import context_digest
from hive_infra.machine.stack_reader import StackOutputsError, pulumi_command

TIMEOUT_SECONDS = 60


def _run(cmd: list[str], cwd: Path) -> tuple[int, str, str]:
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return 124, "", f"no answer within {TIMEOUT_SECONDS} s"
    except OSError as exc:
        return 127, "", str(exc)
    return done.returncode, done.stdout, done.stderr


def _last_line(stderr: str, code: int) -> str:
    return (stderr.strip().splitlines() or [f"exit code {code}"])[-1]


def pulumi_facts(machine: Context) -> PulumiFacts:
    try:
        path = pulumi_command()
    except StackOutputsError:
        return PulumiFacts(None)
    code, out, err = _run([path, "version"], machine.project_dir)
    if code != 0:
        return PulumiFacts(path, None, _last_line(err, code))
    return PulumiFacts(path, out.strip() or "(no version printed)")


def stack_name(machine: Context, pulumi: PulumiFacts, stack: str | None) -> str | None:
    """The stack's short name (``org/project/dev`` -> ``dev``), as the program's labels use it."""
    if stack:
        return stack.rsplit("/", 1)[-1]
    if pulumi.path is None:
        return None
    code, out, _ = _run([pulumi.path, "stack", "--show-name", "--non-interactive"], machine.project_dir)
    name = out.strip()
    return name.rsplit("/", 1)[-1] if code == 0 and name else None


def config_listing(machine: Context, pulumi: PulumiFacts, stack: str | None) -> dict[str, Any] | str:
    """``pulumi config --json`` (secrets elided: never asked to show them), or why not."""
    assert pulumi.path is not None, "asked only when the CLI is there"
    cmd = [pulumi.path, "config", "--json", "--non-interactive"]
    if stack:
        cmd += ["--stack", stack]
    code, out, err = _run(cmd, machine.project_dir)
    if code != 0:
        return _last_line(err, code)
    try:
        listing = json.loads(out or "{}")
    except json.JSONDecodeError:
        return "`pulumi config --json` printed something that is not JSON"
    return listing if isinstance(listing, dict) else "`pulumi config --json` printed no object"


def _entry(value: Any) -> dict[str, Any]:
    """A YAML config value in ``pulumi config --json``'s shape."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value)
    else:
        text = str(value)
    return {"value": text, "secret": False}


def file_config_listing(machine: Context, stack: str) -> dict[str, Any]:
    """What ``pulumi config --json`` will show for a stack not created yet:
    ``Pulumi.yaml``'s defaults under ``Pulumi.<stack>.yaml``'s values (a
    ``secure:`` value elided, as the CLI elides it)."""
    proj = project(machine)
    listing: dict[str, Any] = {}
    for key, declaration in (proj.get("config") or {}).items():
        if isinstance(declaration, dict):
            if "default" in declaration:
                listing[key] = _entry(declaration["default"])
        else:
            listing[key] = _entry(declaration)
    stack_config = _yaml(machine.project_dir / f"Pulumi.{stack}.yaml").get("config") or {}
    for key, value in stack_config.items():
        full = key if ":" in key else f"{proj.get('name')}:{key}"
        secure = isinstance(value, dict) and "secure" in value
        listing[full] = {"secret": True} if secure else _entry(value)
    return listing


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def project(machine: Context) -> dict[str, Any]:
    return _yaml(machine.project_dir / "Pulumi.yaml")


def stack_label(machine: Context, stack: str) -> str:
    """The label value this project's stack ``stack`` puts on its Docker objects."""
    return stack_label_value(str(project(machine).get("name") or "hive"), stack)


def secrets_facts(machine: Context, stack: str | None) -> SecretsFacts:
    env = machine.environ
    passphrase_file = env.get("PULUMI_CONFIG_PASSPHRASE_FILE") or None
    readable = passphrase_file is not None and os.access(passphrase_file, os.R_OK) and os.path.isfile(passphrase_file)
    backend_env = env.get("PULUMI_BACKEND_URL")
    backend = backend_env or (project(machine).get("backend") or {}).get("url")
    stack_file = _yaml(machine.project_dir / f"Pulumi.{stack}.yaml") if stack else {}
    provider = stack_file.get("secretsprovider")
    return SecretsFacts(
        passphrase_set="PULUMI_CONFIG_PASSPHRASE" in env,
        passphrase_file=passphrase_file,
        passphrase_file_readable=readable,
        backend_url=str(backend or "https://api.pulumi.com"),
        backend_source="PULUMI_BACKEND_URL" if backend_env else "Pulumi.yaml",
        access_token_set=bool(env.get("PULUMI_ACCESS_TOKEN")),
        secrets_provider=str(provider) if provider else None,
        has_salt=bool(stack_file.get("encryptionsalt")),
    )


def containers(machine: Context) -> list[ContainerInfo] | str:
    return list_containers(machine.docker_factory)


#: Run by each API container's own python3: can it open a connection to the host and port of
#: its HIVE_DATABASE_URL? Prints why not; never the URL (it holds the password).
DB_REACH_PROBE = """import os, socket, sys, urllib.parse
url = urllib.parse.urlsplit(os.environ.get("HIVE_DATABASE_URL", ""))
where = f"{url.hostname}:{url.port or 5432}"
try:
    socket.create_connection((url.hostname, url.port or 5432), timeout=5).close()
except OSError as exc:
    sys.exit(f"{where}: {exc.strerror or exc}")"""


def own_facts(machine: Context, cfg: HiveConfig, containers: list[ContainerInfo], label: str) -> OwnFacts:
    """The built API image's presence and each running API's reach of its database (a deployed stack only)."""
    ours = [c for c in containers if c.labels.get(STACK_LABEL) == label]
    if not ours or not cfg.api_containers:
        return OwnFacts()
    try:
        client = machine.docker_factory()
    except Exception:  # noqa: BLE001 - the container listing already said Docker answers; nothing more to add
        return OwnFacts()
    built = None
    if cfg.builds_api_image:
        tag = api_image.image_build(
            cfg.api_version, cfg.api_base_image, context_digest(cfg.api_version, cfg.api_base_image)
        ).tag
        built = (tag, _image_present(client, tag))
    apis = {cfg.names.api_container(m) for m in cfg.mode_table}
    unreachable = {}
    for container in ours:
        if container.name in apis and container.status == "running":
            reason = _db_reach(client, container.name)
            if reason:
                unreachable[container.name] = reason
    return OwnFacts(built, unreachable)


def _image_present(client: Any, tag: str) -> bool:
    try:
        client.images.get(tag)
    except Exception as exc:  # noqa: BLE001 - docker.errors.ImageNotFound, imported late like the SDK
        return type(exc).__name__ != "ImageNotFound"
    return True


def _db_reach(client: Any, name: str) -> str | None:
    """Why the API container ``name`` cannot reach its database, or None."""
    try:
        code, output = client.containers.get(name).exec_run(["python3", "-I", "-S", "-c", DB_REACH_PROBE])
    except Exception:  # noqa: BLE001 - gone or stopped since it was listed: the listing's check says so
        return None
    text = (output or b"").decode(errors="replace").strip()
    return (text.splitlines() or [f"exit code {code}"])[-1] if code else None


def _first_line(exc: Exception) -> str:
    """The Docker engine's own explanation when it gave one (an APIError's), else the message's first line."""
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def image_facts(machine: Context, images: Iterable[str]) -> dict[str, ImageFacts]:
    """Each image: present here, else whether its registry answers for it (the SDK's registry data,
    which asks the registry for the reference's manifest and pulls nothing)."""
    try:
        client = machine.docker_factory()
    except Exception:  # noqa: BLE001 - the Docker check already said why Docker does not answer
        return {}
    facts = {}
    for image in images:
        if _image_present(client, image):
            facts[image] = ImageFacts(True)
            continue
        try:
            client.images.get_registry_data(image)
        except Exception as exc:  # noqa: BLE001 - docker.errors.APIError and the like: the reason is what counts
            facts[image] = ImageFacts(False, _first_line(exc))
        else:
            facts[image] = ImageFacts(False)
    return facts


def stack_data(machine: Context, pulumi: PulumiFacts, stack: str, volume: str) -> StackData:
    """The resources in the stack's state (``pulumi stack ls --json``) and whether its
    PostgreSQL data volume exists; None for what could not be asked."""
    resources: int | None = None
    if pulumi.path is not None:
        code, out, _ = _run([pulumi.path, "stack", "ls", "--json", "--non-interactive"], machine.project_dir)
        try:
            listed = json.loads(out) if code == 0 else None
        except json.JSONDecodeError:
            listed = None
        if isinstance(listed, list):
            counts = [s.get("resourceCount") or 0 for s in listed if str(s.get("name", "")).rsplit("/", 1)[-1] == stack]
            resources = counts[0] if counts else 0
    volume_exists: bool | None = None
    try:
        machine.docker_factory().volumes.get(volume)
        volume_exists = True
    except Exception as exc:  # noqa: BLE001 - docker.errors.NotFound, imported late like the SDK
        volume_exists = False if type(exc).__name__ == "NotFound" else None
    return StackData(resources, volume_exists)


def state_holds(machine: Context, pulumi: PulumiFacts, stack: str, resource_type: str) -> bool | None:
    """Whether the stack's state (``pulumi stack export``, its secrets left encrypted) holds a
    resource of ``resource_type`` not pending deletion; None when the state cannot be read."""
    if pulumi.path is None:
        return None
    code, out, _ = _run([pulumi.path, "stack", "export", "--stack", stack, "--non-interactive"], machine.project_dir)
    if code != 0:
        return None
    try:
        resources = json.loads(out).get("deployment", {}).get("resources") or []
    except json.JSONDecodeError:
        return None
    return any(r.get("type") == resource_type and not r.get("delete") for r in resources)


def probe_port(bind_address: str, port: int) -> PortProbe:
    """Bind ``bind_address:port`` for a moment, as Docker's proxy would."""
    family = socket.AF_INET6 if ":" in bind_address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # Not SO_REUSEADDR's purpose to share a listening port: on Linux it only
            # lets a port in TIME_WAIT be bound again, as Docker's own proxy does.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((bind_address, port))
    except OSError as exc:
        return PortProbe(False, errno.errorcode.get(exc.errno or 0, str(exc)))
    return PortProbe(True)


def probe_ports(bind_address: str, ports: Iterable[int]) -> dict[int, PortProbe]:
    return {port: probe_port(bind_address, port) for port in ports}


def disk_facts(machine: Context) -> DiskFacts | str:
    """Free space where Docker keeps images (its root folder, when it is on this
    machine), else in the project folder."""
    path = str(machine.project_dir)
    try:
        client = machine.docker_factory()
        root = str((client.info() or {}).get("DockerRootDir") or "")
        if root and os.path.isdir(root):
            path = root
    except Exception:  # noqa: BLE001 - no Docker (or an odd one): the project folder tells enough
        pass
    try:
        return DiskFacts(path, machine.disk_free(path))
    except OSError as exc:
        return f"{path}: {exc.strerror}"
