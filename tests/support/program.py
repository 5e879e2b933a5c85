"""The whole ``__main__.py`` run afresh under the recording mocks, as the language
host runs it, in preview or up mode; what it registered and exported."""

from __future__ import annotations

import contextlib
import json
import runpy
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.sync_await import _sync_await

from hive_infra.config import SECRET_KEY_NAMES
from hive_infra.pg import retained
from tests.support.mocks import RecordingMocks, RecordingMonitor, Registration

PROJECT_DIR = Path(__file__).resolve().parents[2]
MAIN = PROJECT_DIR / "__main__.py"
PROJECT = "hive"
STACK = "dev"
#: The config keys Pulumi marks secret (``pulumi config set --secret``).
SECRET_KEYS = SECRET_KEY_NAMES


@dataclass
class ExportedValue:
    value: Any
    known: bool
    secret: bool


class RegistrationQueries:
    """Look-ups over ``self.registrations`` (anything with ``type`` and ``name``)."""

    registrations: list[Any]

    def of_type(self, type_: str) -> list[Any]:
        return [r for r in self.registrations if r.type == type_]

    def named(self, name: str) -> Any:
        matches = [r for r in self.registrations if r.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {len(matches)}"
        return matches[0]


@dataclass
class ProgramRun(RegistrationQueries):
    registrations: list[Registration]
    outputs: dict[str, ExportedValue] = field(default_factory=dict)

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.registrations if r.urn == urn)

    def reached_from(self, urn: str) -> set[str]:
        """Every URN the resource ``urn`` depends on, directly or through its dependencies
        (the order the engine deletes in: a resource before everything it reaches)."""
        by_urn = {r.urn: r for r in self.registrations}
        seen: set[str] = set()
        todo = [urn]
        while todo:
            for dep in by_urn[todo.pop()].dependencies:
                if dep not in seen and dep in by_urn:
                    seen.add(dep)
                    todo.append(dep)
        return seen


def config_values(config: Mapping[str, Any]) -> dict[str, str]:
    """Stack config as Pulumi hands it to a program: arrays as JSON, the rest as strings."""
    raw = {}
    for key, value in config.items():
        if isinstance(value, (list, tuple)):
            text = json.dumps(list(value))
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        raw[f"{PROJECT}:{key}"] = text
    return raw


def run_main() -> None:
    """The whole Pulumi program, run afresh as the language host runs it."""
    runpy.run_path(str(MAIN), run_name="__main__")


def run_under_mocks(
    program: Callable[[], Any],
    mocks: pulumi.runtime.Mocks,
    *,
    preview: bool = False,
    config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
    monitor: pulumi_mocks.MockMonitor | None = None,
) -> dict[str, ExportedValue]:
    """Run ``program`` as one fresh deployment (a new root stack) under
    ``mocks``, waiting for every registration; returns the stack's exports.
    ``config`` maps full keys (``hive:dbPort``) to the strings Pulumi stores."""
    pulumi.runtime.settings.set_root_resource(None)  # type: ignore[arg-type]  # a new Stack for this run
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=preview, monitor=monitor)
    values = dict(config or {})
    pulumi.runtime.set_all_config(values, [k for k in secret_keys if k in values])
    outputs: dict[str, ExportedValue] = {}

    async def body() -> None:
        program()
        root = pulumi.runtime.settings.get_root_resource()
        assert root is not None
        for key, output in dict(getattr(root, "outputs", None) or {}).items():
            out = pulumi.Output.from_input(output)
            known = await out.is_known()
            value = await out.future() if known else None
            outputs[key] = ExportedValue(value=value, known=known, secret=await out.is_secret())
        await pulumi.runtime.stack.wait_for_rpcs()

    try:
        _sync_await(pulumi.runtime.stack.run_pulumi_func(lambda: _sync_await(body())))
    finally:
        pulumi.runtime.set_all_config({}, [])
    return outputs


def run_program(
    config: Mapping[str, Any] | None = None,
    *,
    preview: bool = False,
    mocks: pulumi.runtime.Mocks | None = None,
    secret_keys: tuple[str, ...] = SECRET_KEYS,
    cwd: Path | None = None,
    databases_on_server: frozenset[str] = frozenset(),
) -> ProgramRun:
    """Run ``__main__.py`` afresh under mocks and return what it registered and exported.

    The program's question to the stack's PostgreSQL container (``retained``)
    is answered with ``databases_on_server``, never by this machine's Docker.

    The program reads the user's .env files under ``envDir`` (relative to the
    working directory, the project folder under ``pulumi``): it runs in ``cwd``,
    by default a fresh empty folder, so a developer's own ``.env`` in the
    checkout never changes what the tests see."""
    with contextlib.ExitStack() as stack:
        folder = cwd or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hive-program-")))
        stack.enter_context(contextlib.chdir(folder))
        stack.enter_context(
            mock.patch.object(retained, "server_databases", lambda _container, _admin, _label: databases_on_server)
        )
        return run_component(
            run_main,
            preview=preview,
            mocks=mocks,
            config=config_values(config or {}),
            secret_keys=[f"{PROJECT}:{k}" for k in secret_keys],
        )


def run_component(
    build: Callable[[], Any],
    *,
    preview: bool = False,
    mocks: pulumi.runtime.Mocks | None = None,
    config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
) -> ProgramRun:
    """``build`` (a whole program, or one component made alone) run as a fresh deployment
    under the recording mocks and monitor; what it registered, its options included, and
    what it exported. ``config`` maps full keys (``hive:dbPort``) to Pulumi's strings."""
    mocks = mocks or RecordingMocks(preview=preview)
    monitor = RecordingMonitor(mocks)
    run = ProgramRun(registrations=monitor.registrations)
    run.outputs = run_under_mocks(
        build, mocks, preview=preview, config=config, secret_keys=secret_keys, monitor=monitor
    )
    return run


def raw_config(**values: Any) -> dict[str, str]:
    """``values`` as ``parse_config`` reads them: each key without its namespace, as text."""
    return {key.split(":", 1)[1]: text for key, text in config_values(values).items()}


#: A platform=kubernetes stack that parses: a managed server, a registry for the built image.
KUBERNETES_VALUES: dict[str, Any] = {
    "platform": "kubernetes",
    "postgresMode": "external",
    "postgresHost": "db.example.internal",
    "adminPassword": "Managed-Adm1n-Passw0rd",
    "imageRegistry": "registry.example.com/team",
}
