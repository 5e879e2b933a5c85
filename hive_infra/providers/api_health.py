"""The ApiHealth dynamic resource: `up` waits for an API container to turn healthy.

The docker provider's own wait (``wait=True``) ignores ``unhealthy`` and a
container that crashes and restarts, runs to its timeout, and then fails with
words that name neither the Docker container nor its log. This resource is
created after its container (it takes the container's id, so a replaced
container is waited for again) and polls ``docker inspect`` until the
container is healthy. It fails at once, naming the container and
``docker logs <name>``, when the app keeps exiting (a broken project, a
missing module) or Docker reports it unhealthy, and after ``timeout`` seconds
otherwise. The container is left as it is, to be read.

``create`` waits; ``update`` (only the timeout changed) and ``delete`` touch
nothing. A failed wait records nothing, so the next ``up`` waits again.

Like ``hive_infra.providers.envfile``, this module's path is stored in every stack's
state (the provider is pickled by reference), and before the move of issue #21
it was ``hive_infra.api_health`` (a shim now, the same module): both paths,
``ApiHealthProvider`` and the type ``pulumi-python:dynamic/hive:ApiHealth`` are
public names; keep them importable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from hive_infra.pg.tools import DockerInspectError, inspect_container
from hive_infra.providers.wire import has_unknown, plain

_INPUTS = ("container", "containerId", "timeout")
#: The app exited this many times since its container was created: it does not start.
CRASH_RESTARTS = 2
POLL_SECONDS = 0.5
#: The container's State and its restart count, which Docker keeps beside State, not in it.
INSPECT_FORMAT = '{"State": {{json .State}}, "RestartCount": {{.RestartCount}}}'


class ApiHealthError(Exception):
    """Why an API container is not healthy; names it and how to read its log, never a secret."""


def _read_log(name: str) -> str:
    return f"read why with `docker logs {name}`"


def verdict(name: str, state: Mapping[str, Any] | None, restarts_before: int = 0) -> str | None:
    """``"healthy"``, None (keep waiting), or why the container will not turn healthy;
    ``restarts_before``: its restart count when the wait began (a container kept from an
    earlier ``up`` may have restarted long ago)."""
    if state is None:
        return f"{name} is gone (removed while `up` waited for it)"
    health = (state.get("Health") or {}).get("Status")
    if health == "healthy" and state.get("Running"):
        return "healthy"
    code = state.get("ExitCode")
    restarts = int(state.get("RestartCount") or 0) - restarts_before
    if restarts >= CRASH_RESTARTS:
        return f"{name} exited {restarts} times while `up` waited for it: the app does not start"
    if state.get("Status") in ("exited", "dead") and not state.get("Restarting"):
        return f"{name} stopped (exit code {code})"
    streak = int((state.get("Health") or {}).get("FailingStreak") or 0)
    # Docker also reports "unhealthy" (with no failure) for a container whose app just exited and
    # is being restarted: the restarts above judge that case.
    if health == "unhealthy" and state.get("Running") and streak > 0:
        return f"{name} is unhealthy: its healthcheck failed {streak} times in a row"
    return None


def inspect_state(name: str) -> dict[str, Any] | None:
    """``docker inspect``'s State of container ``name``, with its ``RestartCount``; None when there is none."""
    try:
        printed = inspect_container(name, INSPECT_FORMAT)
    except DockerInspectError as exc:
        raise ApiHealthError(str(exc)) from None
    if printed is None:
        return None
    found: dict[str, Any] = json.loads(printed)
    state: dict[str, Any] = found["State"]
    state["RestartCount"] = found["RestartCount"]
    return state


def wait_healthy(
    name: str,
    timeout: float,
    inspect: Callable[[str], Mapping[str, Any] | None] = inspect_state,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once ``name`` is healthy; raise ``ApiHealthError`` as soon as it will not be."""
    deadline = clock() + timeout
    restarts_before: int | None = None
    while True:
        state = inspect(name)
        if restarts_before is None:
            restarts_before = int((state or {}).get("RestartCount") or 0)
        found = verdict(name, state, restarts_before)
        if found == "healthy":
            return
        if found is not None:
            raise ApiHealthError(f"{found}; {_read_log(name)}")
        if clock() >= deadline:
            health = ((state or {}).get("Health") or {}).get("Status", "no healthcheck")
            raise ApiHealthError(
                f"{name} did not turn healthy within {timeout:.0f} s (hive:apiHealthTimeout; its health: {health}); "
                f"{_read_log(name)}"
            )
        sleep(POLL_SECONDS)


class ApiHealthProvider(pulumi.dynamic.ResourceProvider):
    """Waits in ``create``; see the module's docstring."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return pulumi.dynamic.CheckResult({k: news.get(k) for k in _INPUTS}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [k for k in _INPUTS if plain(olds.get(k)) != plain(news.get(k))]
        # A new container (or one not known yet, in a preview) is waited for again.
        replaces = [k for k in ("container", "containerId") if k in changed or has_unknown(news.get(k))]
        return pulumi.dynamic.DiffResult(changes=bool(changed or replaces), replaces=replaces)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        wait_healthy(str(props["container"]), float(props["timeout"]))
        return pulumi.dynamic.CreateResult(str(props["container"]), {k: props.get(k) for k in _INPUTS})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult({k: news.get(k) for k in _INPUTS})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing outside the state to remove."""


@dataclass(frozen=True)
class ApiHealthArgs:
    container: pulumi.Input[str]
    container_id: pulumi.Input[str]
    #: Seconds to wait (``apiHealthTimeout``).
    timeout: int


class ApiHealth(pulumi.dynamic.Resource, module="hive", name="ApiHealth"):
    """See the module's docstring."""

    def __init__(self, name: str, args: ApiHealthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"container": args.container, "containerId": args.container_id, "timeout": args.timeout}
        super().__init__(ApiHealthProvider(), name, props, opts)
