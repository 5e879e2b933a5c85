"""`make up`'s set-up scripts on their own: which Pulumi CLI, the passphrase file, the venv's
reinstall rule, the dockerd script's refusal to stop what it did not start, and no silent
question without a terminal. Each runs the real script with a HOME, a PATH and stand-in
programs of its own; nothing of the machine's is touched."""

from __future__ import annotations

import os
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PINNED = dict(
    line.split("=", 1)
    for line in (ROOT / "scripts" / "pulumi-pins.env").read_text().splitlines()
    if line and not line.startswith("#")
)["PULUMI_VERSION"]


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + textwrap.dedent(text))
    path.chmod(0o755)
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A HOME and config folder of the test's own, an empty engine cache, no passphrase, no pulumi on PATH."""
    (tmp_path / "home").mkdir()
    (tmp_path / "bin").mkdir()
    return {
        "HOME": str(tmp_path / "home"),
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "HIVE_PULUMI_CACHE": str(tmp_path / "no-cache"),
        "LANG": "C.UTF-8",
    }


def shell(script: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``script`` in bash with scripts/hive-env.sh sourced."""
    return subprocess.run(
        ["bash", "-c", f". {ROOT}/scripts/hive-env.sh\n{script}"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


# --- the Pulumi CLI ---------------------------------------------------------------------------


def test_hive_pulumi_wins_over_a_pulumi_on_path(env: dict[str, str], tmp_path: Path) -> None:
    executable(tmp_path / "bin" / "pulumi", f"echo v{PINNED}\n")
    mine = executable(tmp_path / "mine" / "pulumi", "echo v3.1.0\n")
    done = shell('resolve_pulumi && echo "$HIVE_PULUMI"', {**env, "HIVE_PULUMI": str(mine)})
    assert done.stdout.strip() == str(mine), f"a user's HIVE_PULUMI is used as given: {done}"


def test_a_pulumi_on_path_at_the_pin_or_later_is_used(env: dict[str, str], tmp_path: Path) -> None:
    cli = executable(tmp_path / "bin" / "pulumi", "echo v3.999.1\n")
    done = shell('resolve_pulumi && echo "$HIVE_PULUMI|$PULUMI_SOURCE"', env)
    assert done.stdout.strip() == f"{cli}|PATH, v3.999.1", f"a 3.x CLI newer than the pin serves: {done}"


@pytest.mark.parametrize("version", ["v3.100.0", "v4.0.0", "garbage"])
def test_a_pulumi_on_path_the_sdk_does_not_support_is_passed_over(
    env: dict[str, str], tmp_path: Path, version: str
) -> None:
    executable(tmp_path / "bin" / "pulumi", f"echo {version}\n")
    done = shell('resolve_pulumi || { echo "no: $PULUMI_WHY"; exit 3; }', env)
    assert done.returncode == 3, f"{version} is not 3.x at least {PINNED}, and no build is cached: {done}"
    assert f"not 3.x at least {PINNED}" in done.stdout and "no cached build" in done.stdout, done.stdout


def test_every_make_target_runs_the_resolved_cli(env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "calls"
    executable(tmp_path / "bin" / "pulumi", f'[ "$1" = version ] && echo v{PINNED} && exit 0\necho "$@" >> {log}\n')
    done = subprocess.run(
        ["bash", "scripts/hive-run.sh", "pulumi", "preview", "--stack", "x"],
        cwd=ROOT, env={**env, "STACK": "x"}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert log.read_text().strip() == "preview --stack x", "hive-run's `pulumi` is the resolved CLI"


def test_with_no_cli_a_make_target_fails_with_the_fix(env: dict[str, str]) -> None:
    done = subprocess.run(
        ["bash", "scripts/hive-run.sh", "pulumi", "preview"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "make up" in done.stderr and "HIVE_PULUMI" in done.stderr, done.stderr


# --- the passphrase ---------------------------------------------------------------------------


def project(tmp_path: Path, backend: str = "file://~") -> Path:
    """A project folder with the scripts and a Pulumi.yaml of the given backend."""
    folder = tmp_path / "project"
    (folder / "scripts").mkdir(parents=True)
    for name in ("hive-env.sh", "pulumi-pins.env", "build-pulumi.sh", "build-lib.sh"):
        (folder / "scripts" / name).write_bytes((ROOT / "scripts" / name).read_bytes())
    (folder / "Pulumi.yaml").write_text(f"name: hive\nruntime: python\nbackend:\n  url: {backend}\n")
    return folder


def passphrase(folder: Path, env: dict[str, str], mode: str = "create") -> subprocess.CompletedProcess[str]:
    script = f'. scripts/hive-env.sh\nresolve_passphrase s1 {mode}; rc=$?\necho "$PASSPHRASE_NOTE"\n'
    script += 'echo "file=${PULUMI_CONFIG_PASSPHRASE_FILE:-}"; exit $rc'
    return subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, check=False)


def test_a_passphrase_file_is_generated_once_private_and_never_printed(env: dict[str, str], tmp_path: Path) -> None:
    folder = project(tmp_path)
    first = passphrase(folder, env)
    expected = Path(env["HOME"]) / ".config" / "hive-infra" / "passphrases" / "hive.s1"
    assert first.returncode == 0 and f"file={expected}" in first.stdout, first
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600, "only its owner reads the passphrase"
    secret = expected.read_text().strip()
    assert len(secret) >= 32 and secret not in first.stdout + first.stderr, "the passphrase itself is never printed"
    assert f"export PULUMI_CONFIG_PASSPHRASE_FILE={expected}" in first.stdout, "the line to use it with pulumi"
    again = passphrase(folder, env, "reuse")
    assert again.returncode == 0 and expected.read_text().strip() == secret, "a later target reuses the same file"
    assert f"file={expected}" in again.stdout


def test_a_users_own_passphrase_setting_wins(env: dict[str, str], tmp_path: Path) -> None:
    folder = project(tmp_path)
    for mine in ({"PULUMI_CONFIG_PASSPHRASE": ""}, {"PULUMI_CONFIG_PASSPHRASE_FILE": "/my/file"}):
        done = passphrase(folder, {**env, **mine})
        assert done.returncode == 0 and done.stdout.startswith("yours"), done
    assert not (Path(env["HOME"]) / ".config" / "hive-infra").exists(), "nothing generated when the user set one"


def test_no_passphrase_for_a_backend_that_keeps_the_secrets(env: dict[str, str], tmp_path: Path) -> None:
    done = passphrase(project(tmp_path, "https://api.pulumi.com"), env)
    assert done.returncode == 0 and "not needed" in done.stdout and "file=\n" in done.stdout, done


def test_a_stack_with_a_salt_and_no_passphrase_is_not_given_a_new_one(env: dict[str, str], tmp_path: Path) -> None:
    folder = project(tmp_path)
    (folder / "Pulumi.s1.yaml").write_text("encryptionsalt: v1:abc\n")
    done = passphrase(folder, env)
    assert done.returncode == 1 and "PULUMI_CONFIG_PASSPHRASE" in done.stdout, "a new one would not decrypt it"
    assert not (Path(env["HOME"]) / ".config" / "hive-infra").exists()


# --- the venv, dockerd and up -----------------------------------------------------------------


def test_the_venv_is_reinstalled_only_when_a_requirement_file_changed(env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "installs"
    python = executable(
        tmp_path / "python",
        f"""\
        [ "$1" = -V ] && echo "Python 3.11.2" && exit 0
        mkdir -p "$3/bin"
        printf '#!/bin/sh\\necho install >> {log}\\n' > "$3/bin/python"
        chmod +x "$3/bin/python"
        """,
    )
    venv = tmp_path / "venv"

    def run() -> str:
        done = subprocess.run(
            ["bash", "scripts/venv.sh", str(venv), str(python)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "created" in run() and log.read_text().count("install") == 1
    assert "up to date" in run() and log.read_text().count("install") == 1, "unchanged requirements: no pip at all"
    (venv / ".hive-requirements.sha256").write_text("something else\n")
    assert "reinstalled" in run() and log.read_text().count("install") == 2


def test_dockerd_stop_never_stops_a_process_it_did_not_start(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "started.pid").write_text(f"{other.pid}\n")
        env = {**os.environ, "DOCKERD_DIR": str(tmp_path)}
        for args in (["stop"], ["stop", str(other.pid)], ["stop", "1"]):
            done = subprocess.run(
                ["bash", "scripts/dockerd.sh", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stderr
            assert other.poll() is None, (
                f"`dockerd.sh {' '.join(args)}` stopped a process that is no dockerd of its own"
            )
    finally:
        other.kill()
        other.wait()


def test_up_without_a_terminal_asks_for_yes_before_anything(env: dict[str, str]) -> None:
    done = subprocess.run(
        ["bash", "scripts/up.sh"], cwd=ROOT, env={**env, "VENV": "/nonexistent"},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "make up YES=1" in done.stderr, done
    assert "venv" not in done.stdout, "it stops before making anything"
