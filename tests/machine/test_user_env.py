"""The user's own .env keys reaching the API containers: reading the files, and
the whole program under mocks run twice around what EnvFile writes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pulumi
import pytest

from hive_infra.core.modes import MODES
from hive_infra.machine.user_env import UserEnvError, read_user_env, read_values
from hive_infra.providers.envfile import EnvFileProvider
from tests.support.mocks import RecordingMocks, Registration, Secret, reveal
from tests.support.program import ProgramRun, run_program

CONTAINER = "docker:index/container:Container"
ENVFILE = "pulumi-python:dynamic/hive:EnvFile"
MODE_NAMES = ("workspace", "agent", "genie")
OPENAI = "sk-proj-user-model-key-0123456789"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


# --- reading ------------------------------------------------------------------------------


def test_a_missing_file_holds_no_keys(tmp_path: Path) -> None:
    assert read_values(str(tmp_path / ".env")) == {}, "the first `up` runs before any .env exists"
    env = read_user_env(str(tmp_path / "nowhere"), list(MODES.values()))
    assert all(layer == {} for mode in MODE_NAMES for layer in env.of(mode)), "no folder: no keys, no error"


def test_values_are_read_as_python_dotenv_reads_them(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ".env",
        "# comment\nexport OPENAI_API_KEY='sk 1'\nA=first\nA=second  # inline comment\nBARE\nEMPTY=\nREF=${HOME}\n",
    )
    values = read_values(str(path))
    assert values == {"OPENAI_API_KEY": "sk 1", "A": "second", "EMPTY": "", "REF": "${HOME}"}, (
        "export prefix and quotes removed, the last binding wins, a bare KEY sets nothing, and ${VAR} stays "
        "as written so the containers never depend on the environment of whoever runs pulumi"
    )


def test_each_mode_layers_its_own_file_over_the_workspace_file(tmp_path: Path) -> None:
    write(tmp_path, ".env", f"OPENAI_API_KEY={OPENAI}\n")
    write(tmp_path, ".env.agent", "OPENAI_API_KEY=sk-agent\n")
    env = read_user_env(str(tmp_path), list(MODES.values()))
    assert env.of("workspace") == ({"OPENAI_API_KEY": OPENAI},), "workspace: its one file"
    assert env.of("agent") == ({"OPENAI_API_KEY": OPENAI}, {"OPENAI_API_KEY": "sk-agent"}), "workspace, then own"
    assert env.of("genie") == ({"OPENAI_API_KEY": OPENAI}, {}), "genie has no file yet: the workspace keys only"
    assert OPENAI not in repr(env) and "sk-agent" not in repr(env), "a logged UserEnv shows keys, never values"


def test_a_symlink_is_refused_naming_the_file(tmp_path: Path) -> None:
    target = write(tmp_path, "real", f"OPENAI_API_KEY={OPENAI}\n")
    os.symlink(target, tmp_path / ".env")
    with pytest.raises(UserEnvError, match=r"\.env is a symbolic link") as info:
        read_values(str(tmp_path / ".env"))
    assert OPENAI not in str(info.value), "the message names the file, never a value"


def test_an_unparseable_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, ".env", f"OPENAI_API_KEY={OPENAI}\nnot a binding 'at all\n")
    with pytest.raises(UserEnvError, match="cannot parse the statement at line 2") as info:
        read_values(str(path))
    assert OPENAI not in str(info.value), "the message names the line, never a value"


# --- the program --------------------------------------------------------------------------


def containers(run: ProgramRun) -> dict[str, Registration]:
    api = [r for r in run.of_type(CONTAINER) if r.name.startswith("hive-api-")]
    return {r.name.removeprefix("hive-api-").removesuffix("-container"): r for r in api}


def env_of(reg: Registration) -> dict[str, str]:
    return dict(item.split("=", 1) for item in reveal(reg.inputs["envs"]))


class SameStateMocks(RecordingMocks):
    """Answers every run alike, as an engine does from the stack's state on a
    second `up`: a generated password and an image id follow the resource's
    name, not the order in which this run registered it."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        digest = hashlib.sha256(args.name.encode()).hexdigest()
        if "result" in state:
            state["result"] = (digest * 2)[: len(state["result"])]
        if "imageId" in state:
            state["imageId"] = f"sha256:{digest}"
        return resource_id, state


def up(env_dir: Path, **config: Any) -> ProgramRun:
    return run_program({"envDir": str(env_dir), **config}, mocks=SameStateMocks())


def write_env_files(run: ProgramRun) -> None:
    """What the EnvFile provider writes on `up`, from the inputs the program gave it."""
    for reg in run.of_type(ENVFILE):
        EnvFileProvider().create(reveal(reg.inputs))


def test_a_second_up_with_nothing_changed_changes_no_container(tmp_path: Path) -> None:
    first = up(tmp_path)
    write_env_files(first)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", ".env.agent", ".env.genie"], "the files exist now"
    second = up(tmp_path)
    before, after = containers(first), containers(second)
    assert set(before) == set(MODE_NAMES), "one container per mode"
    for mode in MODE_NAMES:
        assert reveal(after[mode].inputs) == reveal(before[mode].inputs), (
            f"{mode}: the files hold exactly what the stack wrote, so the container's inputs must not change "
            "(a changed env replaces the container on every `up`)"
        )


@pytest.fixture
def user_files(tmp_path: Path) -> Path:
    """The stack's files after a first `up`, plus a user's own keys."""
    write_env_files(up(tmp_path))
    with (tmp_path / ".env").open("a") as f:
        f.write(f"OPENAI_API_KEY={OPENAI}\nHIVE_DATABASE_URL=postgresql://elsewhere/db\nSHARED_ONLY=1\n")
    with (tmp_path / ".env.agent").open("a") as f:
        f.write("OPENAI_API_KEY=sk-agent-own\nHIVE_LOG_LEVEL=DEBUG\nHIVE_API_PORT=1\n")
    return tmp_path


def test_the_users_keys_reach_every_container_as_secrets(user_files: Path) -> None:
    run = up(user_files)
    env = {mode: env_of(reg) for mode, reg in containers(run).items()}
    for mode, reg in containers(run).items():
        assert isinstance(reg.inputs["envs"], Secret), f"{mode}: the env holds the user's model keys: secret"
        assert env[mode]["SHARED_ONLY"] == "1", f"{mode}: every key of the workspace .env reaches every mode"
        assert env[mode]["HIVE_DATABASE_URL"].startswith("postgresql+psycopg://hive:"), (
            f"{mode}: an owned key always wins over the user's file"
        )
        assert "@hive-postgres-shared:5432/" in env[mode]["HIVE_DATABASE_URL"], f"{mode}: the in-network URL"
    assert env["workspace"]["OPENAI_API_KEY"] == OPENAI and env["genie"]["OPENAI_API_KEY"] == OPENAI, (
        "the workspace .env's model key, where the legacy compose's env_file put it"
    )
    assert env["agent"]["OPENAI_API_KEY"] == "sk-agent-own", "the mode's own file overrides the workspace file"
    assert env["agent"]["HIVE_LOG_LEVEL"] == "DEBUG", "the user's value beats the seeded default"
    assert env["workspace"]["HIVE_LOG_LEVEL"] == "INFO", "and only in that mode"
    assert env["agent"]["HIVE_API_PORT"] == "38886", "the owned port wins over the mode's own file too"


def _plain_strings(value: Any) -> list[str]:
    """Every string in ``value`` outside a secret."""
    if isinstance(value, Secret):
        return []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_plain_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _plain_strings(v)]
    return [value] if isinstance(value, str) else []


def test_the_users_values_appear_nowhere_in_plain_text(user_files: Path) -> None:
    run = up(user_files)
    for reg in run.registrations:
        plain = " ".join(_plain_strings(reg.inputs))
        assert OPENAI not in plain and "sk-agent-own" not in plain, f"{reg.name}: a user value outside a secret"
    for key, exported in run.outputs.items():
        if not exported.secret:
            assert OPENAI not in repr(exported.value), f"the plain output {key} must not carry a user value"


def test_a_changed_key_changes_the_containers_inputs(user_files: Path) -> None:
    before = containers(up(user_files))
    text = (user_files / ".env").read_text().replace(OPENAI, "sk-proj-rotated")
    (user_files / ".env").write_text(text)
    after = containers(up(user_files))
    for mode in ("workspace", "genie"):
        assert reveal(after[mode].inputs["envs"]) != reveal(before[mode].inputs["envs"]), (
            f"{mode}: a rotated key must change the env, so that `up` replaces the container with it"
        )
        assert env_of(after[mode])["OPENAI_API_KEY"] == "sk-proj-rotated", f"{mode}: the new value"
    assert reveal(after["agent"].inputs) == reveal(before["agent"].inputs), (
        "agent overrides that key in its own file: its container stays as it is"
    )


def test_no_file_is_read_without_api_containers(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()  # unreadable as a .env: reading it would fail the program
    run = up(tmp_path, apiContainers=False)
    assert not run.of_type(CONTAINER)[1:], "only the PostgreSQL container"


def test_an_unreadable_file_fails_the_program_naming_it(tmp_path: Path) -> None:
    (tmp_path / ".env.genie").mkdir()
    with pytest.raises(pulumi.RunError, match=r"\.env\.genie is a directory"):
        up(tmp_path)


# --- what no container can take -----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"BAD=sk-secret\\0x\n", None),  # the two characters backslash, 0: a value like any other
        (b'BAD="sk-secret\x00x"\n', "NUL"),
        (b"BAD=sk-secret\x1bx\n", "U+001B"),
        (b"BAD=sk-secret\xffx\n", "not UTF-8"),
        (b"BAD=sk-secret" + b"x" * 131072 + b"\n", "argument list too long"),
    ],
)
def test_a_line_no_container_can_take_is_refused_naming_file_line_and_fix(
    tmp_path: Path, line: bytes, expected: str | None
) -> None:
    (tmp_path / ".env").write_bytes(b"# mine\nOK=1\n" + line)
    if expected is None:
        assert read_values(str(tmp_path / ".env"))["OK"] == "1", "a plain value passes"
        return
    with pytest.raises(UserEnvError) as info:
        read_user_env(str(tmp_path), list(MODES.values()))
    message = str(info.value)
    assert expected in message and f"{tmp_path / '.env'}, line 3:" in message, (
        f"{expected}: the refusal names the file and the line, so the user finds it: {message}"
    )
    assert "nothing was changed" in message and "sk-secret" not in message, "says nothing changed; never a value"


def test_every_bad_line_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=1\x01\n")
    (tmp_path / ".env.genie").write_bytes(b"\n\nB=2\x00\n")
    with pytest.raises(UserEnvError) as info:
        read_user_env(str(tmp_path), list(MODES.values()))
    message = str(info.value)
    assert ".env, line 1" in message and ".env.genie, line 3" in message, (
        f"both files' problems in one run, not one per try: {message}"
    )


def test_files_too_large_together_are_refused_naming_both(tmp_path: Path) -> None:
    half = "x" * 100_000
    (tmp_path / ".env").write_text("".join(f"W{i}={half}\n" for i in range(10)))
    (tmp_path / ".env.agent").write_text("".join(f"A{i}={half}\n" for i in range(10)))
    with pytest.raises(UserEnvError) as info:
        read_user_env(str(tmp_path), list(MODES.values()))
    message = str(info.value)
    assert "(the agent API)" in message and ".env.agent" in message, (
        f"each value fits, but the agent container's environment would not: refused, naming its files: {message}"
    )
    assert "(the workspace API)" not in message, "the workspace's own file alone fits"


def test_preview_refuses_a_bad_line_before_any_resource(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"OPENAI_API_KEY=sk\x00x\n")
    with pytest.raises(Exception, match="NUL") as info:
        up(tmp_path)
    assert isinstance(info.value, pulumi.RunError), (
        f"the program raises the refusal as a RunError, which the engine prints without a traceback: {info.value!r}"
    )
    assert isinstance(info.value.__cause__, UserEnvError), "it is user_env's refusal, message unchanged"
