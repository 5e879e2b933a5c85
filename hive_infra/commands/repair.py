"""``python -m hive_infra repair``: a stack whose containers, images or cluster objects were
stopped or removed by hand, or that an earlier version left stuck, made whole again.

A plain ``pulumi up`` does not look at Docker, and a refresh of a stopped
container records it without its ports, which forces a new container. So, in
order, each step one printed line:

1. every stopped container of the stack is started again (``docker start``,
   PostgreSQL first): the container and its data are kept as they are;
2. a stack left stuck by a version before the ServerGuard (a replaced PostgreSQL
   container took the role, the databases and the schemas with it and the up
   failed on "role already exists") has those objects marked as existing again:
   ``pulumi stack export``, the marks removed, ``pulumi stack import``; the export
   is kept in ``.pulumi-repair/`` first;
3. ``pulumi refresh`` of the containers, the images and, on a cluster, the
   Kubernetes objects only (a whole refresh fails while PostgreSQL is gone: every
   database object needs it), so that a removed container, a removed built image or
   an object deleted from the cluster by hand is seen;
4. ``pulumi up``: what was removed is made again, a built image rebuilt here
   (never pulled). ``--yes`` skips its question, as ``make repair YES=1`` does.

docs/operations.md: Troubleshooting.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hive_infra.commands.contract import Command, Context
from hive_infra.commands.doctor import probe
from hive_infra.commands.doctor.checks import PulumiFacts
from hive_infra.core.errors import CommandError, ExitCode
from hive_infra.core.names import STACK_LABEL
from hive_infra.legacy.containers import list_containers
from hive_infra.machine.stack_reader import StackOutputsError, pulumi_command

#: The postgresql provider's resources: what a replaced container took with it in older versions.
IN_DATABASE = "postgresql:"
POSTGRES_CONTAINER_ROLE = "-postgres-container"
POSTGRES_VOLUME_ROLE = "-postgres-data"
#: What the refresh reads: the containers, the images and the cluster's objects (every type of the
#: kubernetes package; its provider is ``pulumi:providers:kubernetes``), nothing that needs the server.
REFRESHED_TYPES = ("docker:index/container:Container", "docker:index/remoteImage:RemoteImage")
KUBERNETES_TYPES = "kubernetes:"
BACKUP_FOLDER = ".pulumi-repair"
#: How long a started container may take to report healthy (the API's own start period is 120 s).
HEALTH_TIMEOUT_SECONDS = 180


@dataclass(frozen=True)
class RepairOptions:
    stack: str | None = None
    #: ``pulumi up --yes``: no question.
    yes: bool = False


def _arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--stack", metavar="NAME", help="the stack to repair (default: the selected one)")
    sub.add_argument("--yes", action="store_true", help="run `pulumi up` without asking (as `make repair YES=1`)")


def to_options(args: argparse.Namespace) -> RepairOptions:
    return RepairOptions(stack=args.stack, yes=args.yes)


def _type_of(urn: str) -> str:
    return urn.split("::")[-2].rsplit("$", 1)[-1]


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def unstick(deployment: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``deployment`` (a ``pulumi stack export``'s ``deployment``) with every in-database object
    that an older version tied to the PostgreSQL container freed: no longer pending a
    replacement, and deleted with the data volume (or with nothing, where a ``dataPath``
    holds the data), as this version declares it. Returns it and the names changed."""
    resources = [dict(r) for r in deployment.get("resources") or ()]
    urns = {str(r.get("urn")) for r in resources}
    container = next((u for u in urns if u.endswith(POSTGRES_CONTAINER_ROLE) and "container:Container" in u), None)
    volume = next((u for u in urns if u.endswith(POSTGRES_VOLUME_ROLE) and "volume:Volume" in u), None)
    changed = []
    for resource in resources:
        urn = str(resource.get("urn"))
        if not _type_of(urn).startswith(IN_DATABASE) or resource.get("delete"):
            continue
        tied = container is not None and resource.get("deletedWith") == container
        if not (tied or resource.get("pendingReplacement")):
            continue
        resource.pop("pendingReplacement", None)
        if tied and volume is not None:
            resource["deletedWith"] = volume
        elif tied:
            resource.pop("deletedWith", None)
        changed.append(_name_of(urn))
    return {**deployment, "resources": resources}, changed


def refresh_targets(deployment: Mapping[str, Any]) -> list[str]:
    """The URNs of the stack's containers, images and Kubernetes objects."""
    return sorted(
        str(r["urn"])
        for r in deployment.get("resources") or ()
        if not r.get("delete") and _refreshed(_type_of(str(r.get("urn"))))
    )


def _refreshed(kind: str) -> bool:
    return kind in REFRESHED_TYPES or kind.startswith(KUBERNETES_TYPES)


class Pulumi:
    """The Pulumi CLI on one stack, from the project folder."""

    def __init__(self, stack: str | None, context: Context) -> None:
        try:
            self.path = pulumi_command()
        except StackOutputsError as exc:
            raise CommandError(str(exc), ExitCode.FAILED, unchanged=True) from None
        self.stack_args = ["--stack", stack] if stack else []
        self.context = context

    def capture(self, *args: str) -> str:
        done = subprocess.run(
            [self.path, *args, *self.stack_args, "--non-interactive"], cwd=self.context.project_dir,
            capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
            raise CommandError(f"`pulumi {' '.join(args[:2])}` failed: {reason}", ExitCode.FAILED)
        return done.stdout

    def run(self, *args: str) -> None:
        """Runs ``pulumi ARGS`` with this process's terminal (it may ask, as at a prompt)."""
        self.context.stdout.flush()
        done = subprocess.run([self.path, *args, *self.stack_args], cwd=self.context.project_dir, check=False)
        if done.returncode != 0:
            raise CommandError(f"`pulumi {' '.join(args[:1])}` exited {done.returncode} (its output is above)",
                               ExitCode.FAILED)  # fmt: skip


def stack_name(pulumi: Pulumi, stack: str | None, context: Context) -> str:
    """The stack's short name, as its labels use it (doctor's own lookup)."""
    name = probe.stack_name(context, PulumiFacts(pulumi.path), stack)
    if name is None:
        raise CommandError("no stack selected: pass --stack NAME (or `pulumi stack select NAME`)")
    return name


def start_stopped(label: str, context: Context) -> list[str]:
    """``docker start`` every stopped container of the stack, PostgreSQL first; their names."""
    listed = list_containers(context.docker_factory)
    if isinstance(listed, str):
        raise CommandError(f"{listed}: start Docker, then run this again", ExitCode.FAILED, unchanged=True)
    stopped = [c.name for c in listed if c.labels.get(STACK_LABEL) == label and c.status != "running"]
    stopped.sort(key=lambda name: (not name.endswith("-postgres-shared"), name))
    client = context.docker_factory()
    for name in stopped:  # one at a time: the APIs start once their server answers
        client.containers.get(name).start()
        wait_healthy(client, name)
        print(f"repair: started {name} (docker start; its data kept), healthy", file=context.stdout)
    return stopped


def wait_healthy(client: Any, name: str, timeout: float = HEALTH_TIMEOUT_SECONDS) -> None:
    """Until the started container ``name`` reports healthy; CommandError naming its log past ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        container = client.containers.get(name)
        state = container.attrs.get("State") or {}
        status = (state.get("Health") or {}).get("Status") if state.get("Running") else state.get("Status")
        if status in ("healthy", None):
            return
        if time.monotonic() > deadline or status in ("exited", "dead"):
            raise CommandError(
                f"{name} was started but is {status} after {timeout:.0f} s: read why with `docker logs {name}`",
                ExitCode.FAILED,
            )
        time.sleep(1)


def free_stuck_objects(pulumi: Pulumi, export: Mapping[str, Any], context: Context) -> None:
    """Import the state with the tied objects freed, keeping the export first."""
    fixed, changed = unstick(export.get("deployment") or {})
    if not changed:
        return
    folder = context.project_dir / BACKUP_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    kept = folder / f"stack-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    with os.fdopen(os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        json.dump(export, handle)
    new = folder / "import.json"
    new.write_text(json.dumps({**export, "deployment": fixed}))
    try:
        pulumi.capture("stack", "import", "--file", str(new))
    finally:
        new.unlink(missing_ok=True)
    print(
        f"repair: {len(changed)} database object(s) an older version tied to the PostgreSQL container marked as "
        f"existing again ({', '.join(changed)}); the state before is in {kept}",
        file=context.stdout,
    )


def run(options: RepairOptions, context: Context) -> ExitCode:
    """Carry out ``repair``."""
    pulumi = Pulumi(options.stack, context)
    start_stopped(probe.stack_label(context, stack_name(pulumi, options.stack, context)), context)
    export = json.loads(pulumi.capture("stack", "export"))
    free_stuck_objects(pulumi, export, context)
    targets = refresh_targets(export.get("deployment") or {})
    if targets:
        print(f"repair: pulumi refresh of {len(targets)} containers, images and cluster objects",
              file=context.stdout)  # fmt: skip
        pulumi.run("refresh", "--yes", *(arg for urn in targets for arg in ("--target", urn)))
    print("repair: pulumi up", file=context.stdout)
    pulumi.run("up", *(["--yes"] if options.yes else []))
    return ExitCode.OK


COMMAND = Command(
    name="repair",
    summary="start the stack's stopped containers, then refresh its containers, images and cluster objects "
    "and pulumi up",
    description=(
        "Put back what was stopped or removed by hand: docker start each stopped container of the stack "
        "(never replaced), free database objects an older version left pending a replacement, pulumi refresh "
        "of the containers, images and Kubernetes objects only, then pulumi up (asks unless --yes)."
    ),
    exit_codes={
        ExitCode.OK: "repaired",
        ExitCode.FAILED: "a step failed (its output says which)",
        ExitCode.REFUSED: "no stack selected (nothing was changed)",
    },
    options=to_options,
    run=run,
    arguments=_arguments,
    changes=True,
)
