"""Shared test machinery: recording mocks, a recording monitor, and a helper
that runs the whole ``__main__.py`` under them."""

from __future__ import annotations

import contextlib
import json
import runpy
import string
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.sync_await import _sync_await

from hive_infra.config import SECRET_KEY_NAMES
from hive_infra.core.outputs import SECRET_NAMES
from tests.integration.fixtures import pg_server  # noqa: F401 - one throwaway server for every tier

PROJECT_DIR = Path(__file__).resolve().parent.parent
MAIN = PROJECT_DIR / "__main__.py"
PROJECT = "hive"
STACK = "dev"
#: The config keys Pulumi marks secret (``pulumi config set --secret``).
SECRET_KEYS = SECRET_KEY_NAMES


@dataclass(frozen=True)
class Secret:
    """An input the program marked secret, as the engine would store it."""

    value: Any


def is_wire_secret(value: Any) -> bool:
    """True for a value in Pulumi's wire form of a secret."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _mark_secrets(value: Any) -> Any:
    """Replace the wire form of a secret with ``Secret(value)``, recursively."""
    if is_wire_secret(value):
        return Secret(_mark_secrets(value.get("value")))
    if isinstance(value, dict):
        return {k: _mark_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_secrets(v) for v in value]
    return value


def reveal(value: Any) -> Any:
    """The value with every secret wrapper removed: ``Secret`` markers and
    Pulumi's wire form alike (the one secret unwrapper of the tests)."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if is_wire_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


@dataclass
class Registration:
    """One resource as the program registered it, options included."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    custom: bool
    parent: str
    provider: str
    protect: bool
    deleted_with: str
    dependencies: list[str]
    retain_on_delete: bool
    delete_before_replace: bool
    additional_secret_outputs: list[str]
    #: Input paths whose change replaces the resource (``replace_on_changes``).
    replace_on_changes: list[str] = field(default_factory=list)


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like an engine that accepts every input; a RandomPassword gets
    a deterministic ``result`` of the requested length, so that renderers see
    realistic values. With ``preview`` it answers like the first preview of a
    new stack: inputs only, every computed output unknown."""

    def __init__(self, preview: bool = False) -> None:
        self.counter = 0
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.counter += 1
        state = dict(args.inputs)
        if self.preview:
            # A first preview knows inputs only: computed outputs stay unknown.
            return None, state
        if args.typ == "random:index/randomPassword:RandomPassword":
            alphabet = string.ascii_letters + string.digits
            state["result"] = "".join(
                alphabet[(self.counter * 7 + i) % len(alphabet)] for i in range(int(args.inputs["length"]))
            )
        if args.typ == "docker:index/remoteImage:RemoteImage":
            state["imageId"] = f"sha256:{self.counter:064x}"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Keeps the raw registration requests, where resource options are visible."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=_mark_secrets(rpc.deserialize_properties(request.object, keep_unknowns=True)),
                    custom=request.custom,
                    parent=request.parent,
                    provider=request.provider,
                    protect=request.protect,
                    deleted_with=request.deletedWith,
                    dependencies=list(request.dependencies),
                    retain_on_delete=request.retainOnDelete,
                    delete_before_replace=request.deleteBeforeReplace,
                    replace_on_changes=list(request.replaceOnChanges),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                )
            )
        return response


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
) -> ProgramRun:
    """Run ``__main__.py`` afresh under mocks and return what it registered and exported.

    The program reads the user's .env files under ``envDir`` (relative to the
    working directory, the project folder under ``pulumi``): it runs in ``cwd``,
    by default a fresh empty folder, so a developer's own ``.env`` in the
    checkout never changes what the tests see."""
    mocks = mocks or RecordingMocks(preview=preview)
    monitor = RecordingMonitor(mocks)
    run = ProgramRun(registrations=monitor.registrations)
    with contextlib.ExitStack() as stack:
        folder = cwd or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hive-program-")))
        stack.enter_context(contextlib.chdir(folder))
        run.outputs = run_under_mocks(
            run_main,
            mocks,
            preview=preview,
            config=config_values(config or {}),
            secret_keys=[f"{PROJECT}:{k}" for k in secret_keys],
            monitor=monitor,
        )
    return run


#: The folders of the slower tiers and their markers (registered in pyproject.toml),
#: so that `pytest -m "not app"` and the like select by tier.
TIER_FOLDERS = ("integration", "app", "engine", "docker")
TESTS_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of a tier's folder with the tier's marker."""
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if TESTS_DIR in path.parents:
            folder = path.relative_to(TESTS_DIR).parts[0]
            if folder in TIER_FOLDERS:
                item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture
def program() -> Callable[..., ProgramRun]:
    return run_program


@dataclass
class FakePulumi:
    """A stand-in ``pulumi`` CLI: prints recorded ``stack output --json`` and logs its arguments."""

    path: Path
    calls_log: Path

    @property
    def calls(self) -> list[list[str]]:
        if not self.calls_log.exists():
            return []
        return [json.loads(line) for line in self.calls_log.read_text().splitlines()]


def make_fake_pulumi(
    folder: Path,
    outputs: Mapping[str, Any] | None = None,
    *,
    exit_code: int = 0,
    stderr: str = "",
    config: Mapping[str, Any] | None = None,
    version: str = "v3.200.0",
    stack_name: str = "dev",
    failing: Sequence[str] | None = None,
) -> FakePulumi:
    """Write an executable ``pulumi`` into ``folder``.

    ``stack output``: with ``--show-secrets`` it prints ``outputs``; without,
    every secret output (``databaseUrls``, ``apiKeys``, ``envFiles``) as
    ``"[secret]"``, as the real CLI does. ``config --json`` prints ``config``,
    full keys (``hive:dbPort``) to plain values or ``Secret(value)``, in the
    CLI's shape (``{"value": text, "secret": bool}``; a secret's value only
    with ``--show-secrets``, an array also as ``objectValue``). ``version``
    and ``stack --show-name`` print ``version`` and ``stack_name``.
    ``exit_code``/``stderr`` make every call fail, or with ``failing`` only the
    commands named there (``"config"``, ``"version"``, ``"stack output"``)."""
    folder.mkdir(parents=True, exist_ok=True)
    shown = json.dumps(dict(outputs or {}))
    hidden = json.dumps({k: ("[secret]" if k in SECRET_NAMES else v) for k, v in (outputs or {}).items()})
    config_shown, config_hidden = {}, {}
    for key, value in (config or {}).items():
        secret = isinstance(value, Secret)
        plain = value.value if secret else value
        entry: dict[str, Any] = {"value": next(iter(config_values({"k": plain}).values())), "secret": secret}
        if isinstance(plain, (list, tuple)):
            entry["objectValue"] = list(plain)
        config_shown[key] = entry
        config_hidden[key] = {"secret": True} if secret else entry
    calls_log = folder / "pulumi-calls.jsonl"
    script = folder / "pulumi"
    script.write_text(
        f"""#!{sys.executable}
import json, sys
args = sys.argv[1:]
with open({str(calls_log)!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
words = [a for a in args if not a.startswith("-")]
command = "stack output" if words[:2] == ["stack", "output"] else (words[0] if words else "")
failing = {list(failing) if failing is not None else None!r}
if {exit_code} and (failing is None or command in failing):
    sys.stderr.write({stderr!r})
    sys.exit({exit_code})
show = "--show-secrets" in args
if command == "version":
    print({version!r})
elif command == "stack" and "--show-name" in args:
    print({stack_name!r})
elif command == "config":
    print(json.dumps({config_shown!r} if show else {config_hidden!r}))
else:
    print({shown!r} if show else {hidden!r})
"""
    )
    script.chmod(0o755)
    return FakePulumi(script, calls_log)


@pytest.fixture(autouse=True)
def _isolate_pulumi_config() -> Iterator[None]:
    yield
    pulumi.runtime.set_all_config({}, [])


sys.dont_write_bytecode = True
