"""The Docker tier's view of the engine: the ``docker`` CLI, the test images, and
clean-up that touches only what the tier's own stack labelled.

Every object the stack makes carries ``org.automagik-hive.pulumi-stack=<project>/<stack>``
(``hive_infra.core.names.STACK_LABEL``); the tier's throwaway containers carry it too.
:func:`remove_labelled` removes exactly those, so a user's own ``hive`` containers,
volumes and networks are never touched, even when a test fails half way.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hive_infra.core.names import STACK_LABEL
from tests.support.hive_app import SESSION_TABLE

PROJECT_DIR = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = PROJECT_DIR / "scripts" / "build-test-images.sh"
#: Set to 1 (CI) to make a missing Docker engine or image a failure instead of a skip.
REQUIRE_ENV = "HIVE_REQUIRE_DOCKER"
KINDS = ("container", "volume", "network")


class DockerUnavailable(RuntimeError):
    """No Docker engine answers, or the test images cannot be built."""


@dataclass(frozen=True)
class TierImages:
    postgres: str
    #: The tier's apiBaseImage: the stack builds its API image on it.
    python_base: str
    #: The host-built wheels of the pinned app, for the build context's wheels/ (no index is reachable).
    wheels: Path
    #: True when the build script built something (a cold run), False when every image was reused.
    built: bool
    seconds: float


def stack_config(images: TierImages, **extra: str) -> dict[str, str]:
    """The tier's stack config: the local PostgreSQL image, and the local base the stack
    builds its API image on (the defaults, agnohq/pgvector:16 and python:3.11-slim, would be pulled)."""
    return {"postgresImage": images.postgres, "apiBaseImage": images.python_base, **extra}


def provide_wheels(images: TierImages, program: Path) -> None:
    """The host's wheels of the pinned app into ``program``'s build context (``hive_infra/image/wheels``),
    hard-linked where the file system allows: the build then installs them with no index."""
    target = program / "hive_infra" / "image" / "wheels"
    for wheel in images.wheels.glob("*.whl"):
        destination = target / wheel.name
        if not destination.exists():
            try:
                os.link(wheel, destination)
            except OSError:
                shutil.copy2(wheel, destination)


def docker(*args: str, check: bool = True, timeout: float = 120, stdin: str | None = None) -> str:
    """``docker ARGS``; stdout, or AssertionError with the output when it fails (``check``)."""
    done = subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def engine_answers() -> str | None:
    """None when ``docker info`` answers; else why not."""
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker info: {exc}"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["docker info failed"])[-1]
    return None


def build_images(timeout: float = 1800) -> TierImages:
    """The images of ``scripts/build-test-images.sh``: built when missing, else reused (a few seconds)."""
    started = time.monotonic()
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise DockerUnavailable(f"scripts/build-test-images.sh exited {done.returncode}:\n{done.stderr[-3000:]}")
    tags = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return TierImages(
        postgres=tags["POSTGRES_IMAGE"],
        python_base=tags["PYTHON_BASE"],
        wheels=Path(tags["WHEELS"]),
        built=" built in " in done.stderr,
        seconds=time.monotonic() - started,
    )


def inspect(name: str, kind: str = "container") -> dict[str, Any] | None:
    """``docker <kind> inspect NAME``, or None when there is no such object."""
    out = docker(kind, "inspect", name, check=False)
    found: list[dict[str, Any]] = json.loads(out) if out.strip() else []
    return found[0] if found else None


def health(name: str) -> str:
    """``healthy``, ``starting``, ``unhealthy``, or the container's state when it has no health (or is gone)."""
    data = inspect(name)
    if data is None:
        return "absent"
    state = data["State"]
    if not state.get("Running"):
        return str(state.get("Status", "not running"))
    return str((state.get("Health") or {}).get("Status", "no healthcheck"))


def labelled(label_value: str) -> dict[str, list[str]]:
    """The names of every container, volume and network carrying the stack label ``label_value``."""
    found: dict[str, list[str]] = {}
    for kind in KINDS:
        listing = ["ps", "-a"] if kind == "container" else [kind, "ls"]
        out = docker(*listing, "--filter", f"label={STACK_LABEL}={label_value}", "--format", "{{.Names}}"
                     if kind == "container" else "{{.Name}}")  # fmt: skip
        found[kind] = sorted(line for line in out.splitlines() if line)
    return found


def remove_labelled(label_value: str) -> dict[str, list[str]]:
    """Remove every container, then volume, then network labelled ``label_value``; what was removed."""
    found = labelled(label_value)
    if found["container"]:
        docker("rm", "-f", "-v", *found["container"], check=False)
    if found["volume"]:
        docker("volume", "rm", "-f", *found["volume"], check=False)
    if found["network"]:
        docker("network", "rm", *found["network"], check=False)
    return found


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def port_holder(port: int) -> str:
    """Who holds ``port`` on this machine, in words: a container's name, or what ``ss`` shows."""
    names = docker("ps", "--filter", f"publish={port}", "--format", "{{.Names}}", check=False).split()
    if names:
        return f"the container {', '.join(names)}"
    try:
        ss = subprocess.run(
            ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except OSError:
        ss = ""
    return f"a process ({ss})" if ss else "a process this tier cannot name"


def refuse_if_taken(ports: Sequence[int], names: Sequence[str], own_label: str) -> None:
    """Fail before the stack exists when a port it publishes is held, or a Docker
    name it uses belongs to somebody else; never stop or remove either."""
    problems = [f"port {port} is held by {port_holder(port)}" for port in ports if port_in_use(port)]
    for name in names:
        data = inspect(name)
        if data is not None and (data["Config"].get("Labels") or {}).get(STACK_LABEL) != own_label:
            problems.append(f"a container named {name} exists and is not this tier's")
    if problems:
        raise AssertionError(
            "the Docker tier runs the default stack on its default ports and names; free them first "
            "(the tier never stops what it did not start): " + "; ".join(problems)
        )


def labels_of(label_value: str) -> Mapping[str, Mapping[str, str]]:
    """Every label of every object of the stack, by ``kind/name``."""
    found: dict[str, Mapping[str, str]] = {}
    for kind, names in labelled(label_value).items():
        for name in names:
            data = inspect(name, kind) or {}
            labels = (data.get("Config") or {}).get("Labels") if kind == "container" else data.get("Labels")
            found[f"{kind}/{name}"] = dict(labels or {})
    return found


def user_project(image: str, folder: Path, agent: str, label: str) -> Path:
    """A hive project made by the app's own CLI in ``image`` (``--pull never``), in ``folder/mine``,
    with an agent of its own whose sessions go to PostgreSQL (``HIVE_DATABASE_URL``), not to a
    SQLite file in the project that every mode serving it would share. The CLI's ``.env`` (its
    placeholders) is left in place: the stack must keep it out of the API's environment and images."""
    folder.mkdir(parents=True, exist_ok=True)
    run = ["run", "--rm", "--pull", "never", "--user", "0", "--label", label, "-v", f"{folder}:/work", "-w"]
    docker(*run, "/work", "--entrypoint", "hive", image, "init", "project", "mine")
    docker(*run, "/work/mine", "--entrypoint", "hive", image, "create", "agent", agent)
    project = folder / "mine"
    config_path = project / "ai" / "agents" / agent / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["storage"] = {"type": "postgres", "table_name": SESSION_TABLE}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return project
