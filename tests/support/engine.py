"""The real Pulumi engine, run on a copy of this project.

``Engine`` runs the CLI built by ``scripts/build-pulumi.sh`` (nothing is ever
downloaded: automatic plugin acquisition and the update check are off) on a
copy of the project's program files in a temporary folder, with a local file
backend and a passphrase of its own, so no state or plugin cache of the user's
is touched. The copy's ``venv`` is a link to the interpreter running the tests,
which holds the program's requirements (pinned by constraints.txt to the
versions the engine was built at).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.pgserver import PgServer

PROJECT_DIR = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = PROJECT_DIR / "scripts" / "build-pulumi.sh"
#: Set to 1 (CI) to make an engine that is not built a failure instead of a skip.
REQUIRE_ENV = "HIVE_REQUIRE_PULUMI"
#: What the program needs of the project folder.
PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "requirements.txt", "hive_infra")
PASSPHRASE = "engine-tier-passphrase"
TIMEOUT_SECONDS = 300


class EngineUnavailable(RuntimeError):
    """The Pulumi CLI and plugins are not built here."""


class CommitUnavailable(RuntimeError):
    """A commit asked for is not in this checkout's history."""


def program_at(commit: str, folder: Path) -> Path:
    """The program files (``PROGRAM_FILES``) as they were at ``commit``, taken from git
    (``git archive``) into the new folder ``folder``; CommitUnavailable when the
    history does not hold it (a shallow clone)."""
    done = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "archive", "--format=tar", commit, *PROGRAM_FILES],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    if done.returncode != 0:
        raise CommitUnavailable(f"{commit[:7]} is not in this checkout's history: {done.stderr[-300:]!r}")
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(folder, filter="data")
    return folder


def engine_bin() -> Path:
    """The folder of the built CLI and plugins (``build-pulumi.sh --print-bin``)."""
    done = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--print-bin"], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        if shutil.which("go") is None:
            raise EngineUnavailable("not built, and no Go toolchain here to build it with (scripts/build-pulumi.sh)")
        reason = (done.stderr.strip().splitlines() or ["not built"])[-1]
        raise EngineUnavailable(f"{reason} (`make engine` builds it from the Go modules, once)")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class Result:
    args: Sequence[str]
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def failure_text(self, limit: int = 4000) -> str:
        """What says why a command failed: Pulumi's Diagnostics section (the errors) when
        there is one, else the end of the output (the outputs that follow are left out)."""
        text = self.output
        start = text.find("Diagnostics:")
        if start < 0:
            return text[-limit:]
        end = text.find("\nOutputs:", start)
        diagnostics = text[start : end if end > 0 else None]
        lines = [line for line in diagnostics.splitlines() if "warning: using pulumi-" not in line]
        return "\n".join(lines)[:limit] + "\n...\n" + text[-1000:]

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Engine:
    """One project copy, one backend, one passphrase: any number of stacks."""

    bin: Path
    root: Path
    #: Added to the CLI's environment (e.g. ``DOCKER_HOST``).
    extra_env: Mapping[str, str] = field(default_factory=dict)
    program: Path = field(init=False)

    def __post_init__(self) -> None:
        self.program = self.root / "project"
        self.program.mkdir(parents=True)
        self.install_program()
        # Pulumi.yaml's runtime option `virtualenv: venv`: the interpreter running the tests.
        (self.program / "venv").symlink_to(Path(sys.prefix))
        for folder in ("state", "home"):
            (self.root / folder).mkdir()

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.root / "home"),
            "PULUMI_HOME": str(self.root / "home" / ".pulumi"),
            "PULUMI_BACKEND_URL": f"file://{self.state_dir}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "LANG": "C.UTF-8",
            **self.extra_env,
        }

    def _timed(self, args: Sequence[str], cmd: list[str], env: Mapping[str, str], timeout: float, **kw: Any) -> Result:
        """``cmd`` in the project copy, its output and wall time."""
        started = time.monotonic()
        done = subprocess.run(
            cmd, cwd=self.program, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False, **kw
        )
        return Result(args, done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def run(self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = TIMEOUT_SECONDS) -> Result:
        """``pulumi ARGS`` in the project copy; raises with the output unless it succeeds (``check``)."""
        cmd = [str(self.bin / "pulumi"), "--non-interactive", "--color", "never", *args]
        result = self._timed(args, cmd, self.env(), timeout, input=stdin)
        if check and result.code != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {result.code}:\n{result.failure_text()}")
        return result

    def hive(
        self, *args: str, check: bool = True, timeout: float = TIMEOUT_SECONDS, env: Mapping[str, str] | None = None
    ) -> Result:
        """``python -m hive_infra ARGS`` in the project copy, as a user runs the commands
        there (they read the stack through this engine's ``pulumi``); ``env`` adds to the environment."""
        cmd = [sys.executable, "-m", "hive_infra", *args]
        environ = {**os.environ, **self.env(), **(env or {})}
        result = self._timed(args, cmd, environ, timeout, stdin=subprocess.DEVNULL)
        if check and result.code != 0:
            raise AssertionError(f"hive_infra {' '.join(args)} exited {result.code}:\n{result.output[-4000:]}")
        return result

    def install_program(self, source: Path = PROJECT_DIR) -> None:
        """The program's files (``PROGRAM_FILES``) from ``source`` into the project copy, in
        place of those it holds (its stacks, state and .env files stay)."""
        for name in PROGRAM_FILES:
            target = self.program / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            if (source / name).is_dir():
                shutil.copytree(source / name, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source / name, target)

    def take_over(self, stack: str, prepare: Callable[[Path], None]) -> None:
        """``stack``, brought up by an older program in the project copy, taken over by today's as a
        user upgrades: exported, forgotten by the backend (not destroyed: its resources stay), today's
        program installed in the same folder (``prepare`` then runs on it), and the export imported."""
        state = self.root / f"{stack}-export.json"
        state.write_text(self.run("stack", "export", "--stack", stack).stdout)
        config_file = self.program / f"Pulumi.{stack}.yaml"
        settings = config_file.read_text()  # its settings and the salt of its secrets
        self.run("stack", "rm", "--yes", "--force", "--preserve-config", "--stack", stack)
        self.install_program()
        prepare(self.program)
        self.run("stack", "init", stack)
        config_file.write_text(settings)
        self.run("stack", "import", "--stack", stack, "--file", str(state))

    def init_stack(self, stack: str, config: Mapping[str, str], secrets: Mapping[str, str] | None = None) -> None:
        """``stack init`` and ``config set`` each key (``--path`` for list items ``key[0]``)."""
        self.run("stack", "init", stack)
        for key, value in config.items():
            path = ["--path"] if "[" in key else []
            self.run("config", "set", *path, "--stack", stack, f"hive:{key}", "--", value)
        for key, value in (secrets or {}).items():
            # Through stdin, as a user would pipe it: never on a command line.
            self.run("config", "set", "--secret", "--stack", stack, f"hive:{key}", stdin=value)

    def outputs(self, stack: str, *, secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json", "--stack", stack] + (["--show-secrets"] if secrets else [])
        outputs: dict[str, Any] = self.run(*args).json()
        return outputs

    def state_text(self) -> str:
        """Everything the file backend stored (state, history, backups), as one text."""
        return "\n".join(p.read_text(errors="replace") for p in self.state_dir.rglob("*") if p.is_file())

    def preview_steps(self, stack: str) -> dict[str, str]:
        """``{resource name: op}`` of a ``pulumi preview --json``, same-steps left out."""
        return changed_steps(self.run("preview", "--stack", stack, "--json"))


def changed_steps(result: Result, *, reasons: bool = False) -> dict[str, str]:
    """``{resource name: op}`` of a ``pulumi preview --json``'s steps that are not ``same``
    (with ``reasons``: ``"op (the diff's reasons)"``); empty when it printed no JSON."""
    steps = result.json().get("steps", []) if result.stdout.lstrip().startswith("{") else []
    return {
        s["urn"].rsplit("::", 1)[1]: f"{s['op']} ({', '.join(s.get('diffReasons') or [])})" if reasons else s["op"]
        for s in steps
        if s["op"] != "same"
    }


def external_config(server: PgServer, env_dir: Path, database: str, role: str) -> dict[str, str]:
    """Only what external mode needs, on ``server`` (names of our own on the shared server)."""
    return {
        "postgresMode": "external",
        "postgresHost": server.host,
        "dbPort": str(server.port),
        "adminUser": server.superuser,
        "sslMode": "disable",  # the throwaway server speaks no TLS
        "apiContainers": "false",
        "envDir": str(env_dir),
        "extensions[0]": "citext",  # pgvector is not installable here
        "database": database,
        "dbUser": role,
    }
