"""The ServerGuard dynamic resource: changes to the PostgreSQL container that its kept data cannot take.

The stack's PostgreSQL container is replaced on the same data by a new
``postgresImage``, a changed port and the like. The data keeps what its first
start wrote in it, so three such changes are refused here, before anything is
touched (everything else of the server waits for this resource):

- **a new PostgreSQL major** (16 to 17): the new server cannot start the old
  major's data folder. The data's major is read from ``PG_VERSION`` in the data
  folder (through the container, ``docker cp``); the image's from its
  ``PG_MAJOR`` (the official image's, and ours), else from ``postgres --version``
  run in it. An image not in Docker's cache yet cannot be read: ``docker pull``
  it first. The way over a major is ``db dump`` and ``db restore``.
- **a new admin login or password** (``adminUser``, ``adminPassword``): the data
  keeps the login and password it was initialised with, so the stack could no
  longer log in.
- **any replacement of the container on the first ``up`` after an upgrade from a
  version before this one**: those versions recorded every database object as
  deleted with the container, and the engine decides from that record, so the
  replacement would replace the role, the databases and the schemas too and fail
  on "role already exists" (docs/operations.md: Upgrading). A plain ``up`` first
  records the new graph.

The checks read the live container (``docker inspect``); where Docker does not
answer (a preview on a machine with no engine) or there is no container yet, they
pass: nothing could be replaced. Never a secret in a message.

Like ``hive_infra.providers.envfile``, this module's path, ``ServerGuardProvider``
and the type ``pulumi-python:dynamic/hive:ServerGuard`` are stored in stacks'
state: keep them importable.

Inputs (and outputs): ``container`` (name), ``image`` (the configured reference),
``adminUser``, ``adminPassword`` (secret), ``port``, ``bindAddress``, ``label``
(the stack label's value, so that only this stack's container is read).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.dynamic

from hive_infra.core.errors import CommandError
from hive_infra.core.names import PGDATA, POSTGRES_CONTAINER_PORT, STACK_LABEL
from hive_infra.pg.tools import docker_command
from hive_infra.providers.recording import RecordingProvider
from hive_infra.providers.wire import has_unknown, plain

GUARD_ID = "server"
_INPUTS = ("container", "image", "adminUser", "adminPassword", "port", "bindAddress", "label")
SECRET_OUTPUTS = ["adminPassword"]
DOCKER_TIMEOUT_SECONDS = 60
#: How a refusal names the way over a major.
DUMP_RESTORE = "docs/operations.md: Upgrading"


class DockerUnreadable(Exception):
    """Docker did not answer; the guard then has nothing to compare."""


@dataclass(frozen=True)
class Live:
    """What the running (or stopped) container and the images say."""

    #: The id of the image the container runs.
    image_id: str
    #: The container's ``KEY=value`` environment (holds the admin password: never printed).
    env: Mapping[str, str] = field(repr=False)
    #: ``(host ip, host port)`` published for PostgreSQL's port, or None.
    published: tuple[str, int] | None
    #: The major in the data folder's PG_VERSION, or None when it cannot be read.
    data_major: str | None
    #: The tags and digests naming ``image_id``.
    image_names: tuple[str, ...] = ()
    running: bool = False


@dataclass(frozen=True)
class Wanted:
    """The configuration being deployed, from the inputs."""

    container: str
    image: str
    admin_user: str
    admin_password: str = field(repr=False)
    port: int
    bind_address: str
    label: str

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Wanted:
        values = plain(dict(props))
        return cls(
            container=str(values.get("container") or ""),
            image=str(values.get("image") or ""),
            admin_user=str(values.get("adminUser") or ""),
            admin_password=str(values.get("adminPassword") or ""),
            port=int(values.get("port") or 0),
            bind_address=str(values.get("bindAddress") or ""),
            label=str(values.get("label") or ""),
        )


def _docker(*args: str, binary: bool = False, stdin: str | None = None) -> subprocess.CompletedProcess[Any]:
    """``docker ARGS`` (``stdin``: text handed to it); DockerUnreadable when it cannot run."""
    feed: dict[str, Any] = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    try:
        return subprocess.run(
            [docker_command(), *args], capture_output=True, text=not binary,
            timeout=DOCKER_TIMEOUT_SECONDS, check=False, **feed,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError, CommandError) as exc:
        raise DockerUnreadable(str(exc)) from None


def _env(items: Any) -> dict[str, str]:
    """Docker's ``KEY=value`` list as a mapping."""
    return dict(item.split("=", 1) for item in items or () if "=" in item)


def image_facts(reference: str) -> tuple[str, dict[str, str]] | None:
    """``(id, env)`` of a local image, or None when it is not in Docker's cache."""
    done = _docker("image", "inspect", "--format", "{{json .}}", reference)
    if done.returncode != 0:
        if "no such" in done.stderr.lower():
            return None
        raise DockerUnreadable(done.stderr.strip()[-300:])
    data = json.loads(done.stdout)
    return str(data["Id"]), _env((data.get("Config") or {}).get("Env"))


def image_major(reference: str, env: Mapping[str, str]) -> str | None:
    """The PostgreSQL major of a local image: ``PG_MAJOR``, else ``postgres --version`` run in it."""
    if env.get("PG_MAJOR"):
        return env["PG_MAJOR"].split(".")[0]
    done = _docker("run", "--rm", "--network", "none", "--entrypoint", "postgres", reference, "--version")
    found = re.search(r"\(PostgreSQL\) (\d+)", done.stdout or "")
    return found.group(1) if done.returncode == 0 and found else None


def data_major(container: str) -> str | None:
    """``PG_VERSION`` of the container's data folder (running or not), or None when it has none."""
    done = _docker("cp", f"{container}:{PGDATA}/PG_VERSION", "-", binary=True)
    if done.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        member = archive.next()
        handle = archive.extractfile(member) if member is not None else None
        return handle.read().decode().strip() if handle is not None else None


def live_container(wanted: Wanted) -> Live | None:
    """This stack's PostgreSQL container as Docker sees it; None when there is none (or not this stack's)."""
    done = _docker("container", "inspect", "--format", "{{json .}}", wanted.container)
    if done.returncode != 0:
        if "no such" in done.stderr.lower():
            return None
        raise DockerUnreadable(done.stderr.strip()[-300:])
    data = json.loads(done.stdout)
    config = data.get("Config") or {}
    if (config.get("Labels") or {}).get(STACK_LABEL) != wanted.label:
        return None
    env = _env(config.get("Env"))
    bindings = ((data.get("HostConfig") or {}).get("PortBindings") or {}).get(f"{POSTGRES_CONTAINER_PORT}/tcp") or []
    published = (str(bindings[0].get("HostIp") or ""), int(bindings[0].get("HostPort") or 0)) if bindings else None
    image_id = str(data.get("Image") or "")
    names = _docker("image", "inspect", "--format", "{{json .RepoTags}} {{json .RepoDigests}}", image_id)
    listed = [json.loads(part) or [] for part in names.stdout.split()] if names.returncode == 0 else []
    return Live(
        image_id=image_id,
        env=env,
        published=published,
        data_major=data_major(wanted.container),
        image_names=tuple(name for part in listed for name in part),
        running=bool((data.get("State") or {}).get("Running")),
    )


def password_logs_in(container: str, user: str, password: str) -> bool:
    """Whether ``password`` logs ``user`` in over TCP inside the running ``container`` (handed
    over on stdin, never on a command line)."""
    script = 'PGPASSWORD="$(cat)" exec psql -h 127.0.0.1 -U "$1" -d postgres -Atqc "SELECT 1"'
    done = _docker("exec", "-i", container, "sh", "-c", script, "sh", user, stdin=password)
    return done.returncode == 0 and done.stdout.strip() == "1"


def login_problems(olds: Mapping[str, Any], wanted: Wanted, live: Live) -> list[tuple[str, str]]:
    """A new admin login or password the data would not know, as ``(input, message)`` pairs."""
    problems = []
    before = live.env.get("POSTGRES_USER")
    if before and before != wanted.admin_user:
        problems.append((
            "adminUser",
            f"hive:adminUser is {wanted.admin_user!r}, but the data of {wanted.container} was initialised with "
            f"the superuser {before!r}, which it keeps: the stack could no longer log in. Set it back "
            f"(pulumi config set hive:adminUser {before}); nothing was changed",
        ))  # fmt: skip
    recorded = plain(olds.get("adminPassword")) if olds else live.env.get("POSTGRES_PASSWORD")
    if recorded is not None and recorded != wanted.admin_password:
        # Changed inside the server first (the documented way) is fine; anything else locks the stack out.
        if live.running and password_logs_in(wanted.container, before or wanted.admin_user, wanted.admin_password):
            return problems
        problems.append((
            "adminPassword",
            f"hive:adminPassword is not the password of the data's superuser in {wanted.container}, which "
            "PostgreSQL keeps in the data: the stack could no longer log in. Set it back, or change it inside "
            f"the running server first (docker exec -it {wanted.container} psql -U {before or wanted.admin_user} "
            "-c \"ALTER ROLE ... PASSWORD '<new>'\"; docs/operations.md: Troubleshooting), then pulumi up; "
            "nothing was changed",
        ))  # fmt: skip
    return problems


def normalised(reference: str) -> str:
    """``reference`` as Docker lists it among an image's tags (``name`` alone is ``name:latest``)."""
    if "@" in reference or ":" in reference.rsplit("/", 1)[-1]:
        return reference
    return f"{reference}:latest"


def replacement_reasons(wanted: Wanted, live: Live) -> list[str]:
    """What in the configuration would replace the container, in words (empty: nothing)."""
    reasons = []
    if normalised(wanted.image) not in live.image_names:
        now = f" (it runs {live.image_names[0]})" if live.image_names else ""
        reasons.append(f"hive:postgresImage {wanted.image}{now}")
    if live.published is not None and live.published != (wanted.bind_address, wanted.port):
        reasons.append(f"hive:dbPort/hive:bindAddress {wanted.bind_address}:{wanted.port}")
    if live.env.get("POSTGRES_PASSWORD") not in (None, wanted.admin_password):
        reasons.append("hive:adminPassword")
    return reasons


def major_problem(wanted: Wanted, live: Live, image: tuple[str, dict[str, str]] | None) -> str | None:
    """Why the configured image cannot take over the data, or None."""
    if image is None:
        return (
            f"hive:postgresImage {wanted.image} is not in Docker's cache, so its PostgreSQL major cannot be "
            f"compared with the data's before the container is replaced: docker pull {wanted.image}, then run "
            "this again; nothing was changed"
        )
    new_major = image_major(wanted.image, image[1])
    if live.data_major is None or new_major is None or new_major == live.data_major:
        return None
    return (
        f"hive:postgresImage {wanted.image} runs PostgreSQL {new_major}, but the data of {wanted.container} is "
        f"PostgreSQL {live.data_major} (its PG_VERSION), which another major cannot start: refused, nothing was "
        f"changed. Set the image back, or move the data over with python -m hive_infra db dump, then a destroy, "
        f"the new image and db restore ({DUMP_RESTORE})"
    )


def problems(olds: Mapping[str, Any], wanted: Wanted, live: Live | None) -> list[tuple[str, str]]:
    """Every refusal of ``wanted`` against the recorded ``olds`` and the ``live`` container."""
    if live is None:
        return []  # no container: it is created, nothing is replaced
    found = login_problems(olds, wanted, live)
    image = image_facts(wanted.image)
    if image is None or image[0] != live.image_id:
        major = major_problem(wanted, live, image)
        if major:
            found.append(("image", major))
    reasons = replacement_reasons(wanted, live)
    if not olds and reasons and not found:
        found.append((
            "image",
            f"this stack was last deployed by a hive-infra before the ServerGuard, whose state deletes every "
            f"database object with the PostgreSQL container; this up would replace {wanted.container} "
            f"({'; '.join(reasons)}) and with it the role, the databases and the schemas, and fail on \"role "
            "already exists\". Refused, nothing was changed: set those keys back and run pulumi up once (it "
            "changes nothing and records the new state), then apply the change (docs/operations.md: Upgrading)",
        ))  # fmt: skip
    return found


class ServerGuardProvider(RecordingProvider):
    """Refuses what the module's docstring lists; records the inputs. Holds no state."""

    RESOURCE_ID = GUARD_ID
    INPUTS = _INPUTS

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs = {k: news.get(k) for k in _INPUTS}
        if has_unknown(inputs):
            return pulumi.dynamic.CheckResult(inputs, [])
        wanted = Wanted.from_props(inputs)
        try:
            found = problems(olds, wanted, live_container(wanted))
        except DockerUnreadable:
            found = []  # no engine to ask: nothing it runs can be replaced by this deployment
        return pulumi.dynamic.CheckResult(inputs, [pulumi.dynamic.CheckFailure(k, m) for k, m in found])


@dataclass(frozen=True)
class ServerGuardArgs:
    container: str
    image: str
    admin_user: str
    admin_password: pulumi.Input[str] = field(repr=False)
    port: int
    bind_address: str
    #: The stack label's value (``names.stack_label_value``).
    label: str


class ServerGuard(pulumi.dynamic.Resource, module="hive", name="ServerGuard"):
    """See the module's docstring."""

    def __init__(self, name: str, args: ServerGuardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "container": args.container,
            "image": args.image,
            "adminUser": args.admin_user,
            "adminPassword": pulumi.Output.secret(args.admin_password),
            "port": args.port,
            "bindAddress": args.bind_address,
            "label": args.label,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(ServerGuardProvider(), name, props, opts)
