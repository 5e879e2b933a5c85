"""``python -m hive_infra status`` on the outputs of a real program run, served by a fake ``pulumi``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from dotenv import dotenv_values

from hive_infra.__main__ import main
from hive_infra.commands import status
from hive_infra.commands.contract import Context
from hive_infra.core.rendering import OWNED_KEYS
from hive_infra.machine.stack_reader import PULUMI_ENV, StackOutputs
from hive_infra.providers.envfile import EnvFileProvider
from tests.support.fake_pulumi import FakePulumi, make_fake_pulumi
from tests.support.mocks import reveal
from tests.support.program import PROJECT_DIR, run_program

#: Secrets a shell would trip over: quotes, $, backtick, spaces, ;|& (no backslash or ${: the config refuses them).
PASSWORD = 'O\'Brien "q" $HOME `id` a;b|c&d'
KEY_BASE = "Kb" * 22
SUPPLIED = {"dbPassword": PASSWORD, "adminPassword": "Adm1nPassw0rdLongEnough", "apiKeyBase": KEY_BASE}
ENVFILE = "pulumi-python:dynamic/hive:EnvFile"


def outputs_of(config: dict[str, Any], env_dir: Path | None = None) -> dict[str, Any]:
    """A program run's outputs as `pulumi stack output --json --show-secrets` prints them;
    with ``env_dir``, the .env files are also written as EnvFile writes them on `up`."""
    run = run_program({**SUPPLIED, **config, **({"envDir": str(env_dir)} if env_dir else {})})
    if env_dir is not None:
        for reg in run.of_type(ENVFILE):
            EnvFileProvider().create(reveal(reg.inputs))
    return {key: exported.value for key, exported in run.outputs.items()}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    env_dir = tmp_path_factory.mktemp("env")
    return outputs_of({}, env_dir), env_dir


@pytest.fixture
def fake_pulumi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deployed: tuple[dict[str, Any], Path]
) -> Callable[..., FakePulumi]:
    def install(outputs: dict[str, Any] | None = None, **kwargs: Any) -> FakePulumi:
        fake = make_fake_pulumi(tmp_path / "bin", deployed[0] if outputs is None else outputs, **kwargs)
        monkeypatch.setenv("PATH", f"{fake.path.parent}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.delenv(PULUMI_ENV, raising=False)
        return fake

    return install


def run_status(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["status", *args], Context(out, err))
    return code, out.getvalue(), err.getvalue()


def secrets_of(outputs: dict[str, Any]) -> list[str]:
    """Every secret value a masked status must not print."""
    values = [PASSWORD, quote(PASSWORD, safe=""), KEY_BASE]
    values += list(outputs["databaseUrls"].values()) + list(outputs["apiKeys"].values())
    return values


def test_the_table_masks_secrets_without_ever_reading_them(
    fake_pulumi: Callable[..., FakePulumi], deployed: tuple[dict[str, Any], Path]
) -> None:
    outputs = deployed[0]
    fake = fake_pulumi()
    code, out, err = run_status()
    assert code == 0, f"status prints the table; stderr: {err}"
    for secret in secrets_of(outputs):
        assert secret not in out + err, "no secret may be printed without --show-secrets"
    assert all("--show-secrets" not in call for call in fake.calls), (
        "without --show-secrets the CLI is asked without it: the secrets never reach this process"
    )
    assert "  database URL  postgresql+psycopg://hive:****@localhost:5532/hive_agent?options=" in out, (
        "the masked URL shows everything but the password"
    )
    assert "  API key       hive_agent_****" in out and "  API key       hive_****" in out, "keys show their form"
    assert "  API URL       http://localhost:48886" in out, "each mode's API URL"
    assert f"  .env file     {deployed[1]}/.env.genie" in out, "and its .env file"
    assert "secrets masked" in out, "the table says that it masks"


def _mask_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    user_password, host = rest.split("@", 1)
    return f"{scheme}://{user_password.split(':', 1)[0]}:****@{host}"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"isolation": "schema"},
        {"bindAddress": "10.1.2.3", "dbUser": "app_user", "database": "hv", "dbPort": 6000},
        {"postgresMode": "external", "postgresHost": "db.example.internal", "sslMode": "verify-full"},
    ],
    ids=["database", "schema", "bound", "external"],
)
def test_a_masked_url_is_the_real_one_with_the_password_masked(config: dict[str, Any]) -> None:
    outputs = outputs_of(config)
    plain = StackOutputs("dev", {k: v for k, v in outputs.items() if k not in ("databaseUrls", "apiKeys")})
    for mode, url in outputs["databaseUrls"].items():
        assert status.masked_database_url(plain.postgres, mode) == _mask_password(url), (
            f"{mode}: rendered from the plain outputs alone, the masked URL must be the real one but the password"
        )
        assert status.masked_api_key(mode) == outputs["apiKeys"][mode].replace(KEY_BASE, "****"), f"{mode}: key"


def test_show_secrets_prints_the_real_values(
    fake_pulumi: Callable[..., FakePulumi], deployed: tuple[dict[str, Any], Path]
) -> None:
    outputs = deployed[0]
    fake = fake_pulumi()
    code, out, _ = run_status("agent", "--show-secrets", "--stack", "prod")
    assert code == 0, "status --show-secrets prints the table"
    assert f"  database URL  {outputs['databaseUrls']['agent']}" in out, "the real URL"
    assert f"  API key       {outputs['apiKeys']['agent']}" in out, "the real key"
    assert "workspace" not in out.replace(".env", ""), "MODE limits the table to that mode"
    (call,) = fake.calls
    assert "--show-secrets" in call and call[call.index("--stack") + 1] == "prod", "asks the named stack for them"


def test_json_output(fake_pulumi: Callable[..., FakePulumi], deployed: tuple[dict[str, Any], Path]) -> None:
    fake_pulumi()
    code, out, _ = run_status("-o", "json")
    data = json.loads(out)
    assert code == 0 and data["secretsShown"] is False, "json says whether secrets are shown"
    assert data["modes"]["genie"] == {
        "api_url": "http://localhost:48886",
        "database_url": "postgresql+psycopg://hive:****@localhost:5532/hive_genie?options=-csearch_path%3Dgenie%2Cpublic",
        "api_key": "hive_genie_****",
        "env_file": f"{deployed[1]}/.env.genie",
    }, "one object per mode, masked"
    assert list(data["modes"]) == ["workspace", "agent", "genie"], "every deployed mode, in order"


def test_env_output_without_show_secrets_is_refused_without_asking_pulumi(
    fake_pulumi: Callable[..., FakePulumi],
) -> None:
    fake = fake_pulumi()
    code, out, err = run_status("agent", "-o", "env")
    assert code == 2, "a request status refuses is bad usage"
    assert out == "", "nothing for eval to run"
    assert "-o env" in err and "needs --show-secrets" in err, f"the message says what is missing: {err}"
    assert fake.calls == [], "refused before the CLI is asked for anything"


def test_env_output_evaluates_in_a_shell_to_the_env_files_values(
    fake_pulumi: Callable[..., FakePulumi], deployed: tuple[dict[str, Any], Path]
) -> None:
    fake_pulumi()
    command = f"{sys.executable} -m hive_infra status agent -o env --show-secrets"
    done = subprocess.run(
        ["bash", "-c", f'set -eu; eval "$({command})"; env -0'],
        cwd=PROJECT_DIR,
        env={**os.environ, "HOME": os.environ.get("HOME", "/root")},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"bash must accept the output of -o env: {done.stderr.decode()}"
    env = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    file_values = dotenv_values(deployed[1] / ".env.agent")
    for key in OWNED_KEYS:
        assert env.get(key) == file_values[key], f"{key}: eval gives exactly the value of .env.agent on disk"
    assert env["POSTGRES_PASSWORD"] == PASSWORD, "quotes, $, backticks and ;|& survive the shell untouched"


def test_env_output_lines(fake_pulumi: Callable[..., FakePulumi]) -> None:
    fake_pulumi()
    code, out, _ = run_status("workspace", "-o", "env", "--show-secrets")
    lines = out.splitlines()
    assert code == 0 and [line.split("=", 1)[0] for line in lines] == [f"export {k}" for k in OWNED_KEYS], (
        "one `export KEY=value` line per key the stack owns, in the file's order"
    )


def test_env_output_needs_a_mode_when_several_are_deployed(fake_pulumi: Callable[..., FakePulumi]) -> None:
    fake_pulumi()
    code, out, err = run_status("-o", "env", "--show-secrets")
    assert (code, out) == (2, ""), "ambiguous: refused"
    assert "name one of workspace, agent, genie" in err, f"the message lists the modes: {err}"


def test_env_output_of_a_one_mode_stack_needs_no_mode(fake_pulumi: Callable[..., FakePulumi]) -> None:
    fake_pulumi(outputs_of({"modes": ["genie"]}))
    code, out, _ = run_status("-o", "env", "--show-secrets")
    assert code == 0 and "export HIVE_API_PORT=48886\n" in out, "the one deployed mode"


def test_a_mode_that_is_not_deployed(fake_pulumi: Callable[..., FakePulumi]) -> None:
    fake_pulumi(outputs_of({"modes": ["workspace"]}))
    code, _, err = run_status("genie")
    assert code == 2 and "mode 'genie' is not deployed in this stack (it has workspace)" in err, err


def test_a_failing_cli_exits_1_with_its_message(fake_pulumi: Callable[..., FakePulumi]) -> None:
    fake_pulumi(exit_code=255, stderr="error: no stack named 'prod' found\n")
    code, out, err = run_status("--stack", "prod")
    assert (code, out) == (1, ""), "unreadable outputs: exit 1, nothing printed"
    assert "no stack named 'prod' found" in err, f"the CLI's own reason: {err}"


def test_a_stack_deployed_before_api_urls_existed(fake_pulumi: Callable[..., FakePulumi]) -> None:
    old = {k: v for k, v in outputs_of({}).items() if k not in ("apiUrls", "envFilePaths")}
    fake_pulumi(old)
    code, _, err = run_status()
    assert code == 1 and "has no output 'apiUrls'" in err and "pulumi up" in err, f"says to run up: {err}"


def test_the_readmes_set_a_source_of_a_stack_written_file(tmp_path: Path) -> None:
    """README, Running the API yourself: `set -a; . ./.env.agent; set +a` exports the file's values."""
    run = run_program({"envDir": str(tmp_path)})  # generated secrets, as most stacks have them
    for reg in run.of_type(ENVFILE):
        EnvFileProvider().create(reveal(reg.inputs))
    done = subprocess.run(
        ["bash", "-c", "set -eu; set -a; . ./.env.agent; set +a; env -0"],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"bash must source the file: {done.stderr.decode()}"
    env = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    for key, value in dotenv_values(tmp_path / ".env.agent").items():
        assert env.get(key) == value, f"{key}: the shell reads what python-dotenv (and the app) reads"
