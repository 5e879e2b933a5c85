"""The real automagik-hive application, installed and run for tests.

- :func:`ensure_app_venv` installs the pinned app (``hive_infra/image/constraints-app.txt``) into
  a venv of its own, outside the repository, cached by a hash of the pins.
- :func:`create_project` makes a project with the app's own CLI (``hive init
  project``, ``hive create agent``) whose one agent stores its sessions in
  PostgreSQL through ``HIVE_DATABASE_URL``.
- :class:`HiveApp` runs ``hive serve`` in a copy of that project with exactly a
  mode's environment, waits for ``GET /health`` and always stops it.
- :func:`create_memory`, :func:`list_memories`, :func:`create_session`,
  :func:`list_sessions`, :func:`get_session` speak the AgentOS REST API; none
  of them makes the app call a model.

Nothing a test prints from here carries a secret of the mode's environment:
values of keys naming PASSWORD, KEY or URL are masked (see :func:`mask`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def _requirements(path: Path) -> tuple[str, ...]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return tuple(line for line in lines if line)


#: What the tier installs, always under ``-c constraints-app.txt`` (the Docker tier's API image too).
APP_REQUIREMENTS: tuple[str, ...] = _requirements(REPO_ROOT / "hive_infra" / "image" / "requirements-app.txt")
CONSTRAINTS = REPO_ROOT / "hive_infra" / "image" / "constraints-app.txt"
#: Set to ``1`` to make an app that cannot be installed a failure instead of a skip.
REQUIRE_ENV = "HIVE_REQUIRE_APP"
#: Written last into a venv whose install finished: a venv without it is rebuilt.
COMPLETE_MARKER = ".hive-app-venv-complete"

#: The agent the test project holds; its sessions go to ``ai.<SESSION_TABLE>``.
AGENT_ID = "mode-agent"
SESSION_TABLE = "mode_agent_sessions"
#: The schema Agno puts every table of its PostgresDb in (schema-qualified).
AGNO_SCHEMA = "ai"
MEMORY_TABLE = "agno_memories"

#: Environment keys whose values are secrets in any message (case-insensitive parts).
SENSITIVE_KEY_PARTS = ("PASSWORD", "KEY", "URL")
MASK = "***"

#: Wall-clock seconds of the tier's slow steps, printed at the end of the session.
TIMINGS: list[tuple[str, float]] = []


class AppUnavailable(RuntimeError):
    """The app could not be installed (no network, no PyPI, a broken pin)."""


class AppStartError(RuntimeError):
    """``hive serve`` exited or did not answer ``/health`` in time (message masked)."""


class ApiError(AssertionError):
    """An API call answered with an unexpected status (message masked)."""


# -- secrets ---------------------------------------------------------------


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Every form in which a secret of ``env`` may show up in a log, longest first.

    A secret is the value of a key containing PASSWORD, KEY or URL; its raw,
    percent-encoded and percent-decoded forms, and the password inside a URL.
    """
    found: set[str] = set()
    for key, value in env.items():
        if not value or not any(part in key.upper() for part in SENSITIVE_KEY_PARTS):
            continue
        found.update({value, quote(value, safe=""), unquote(value)})
        try:
            password = urlsplit(value).password
        except ValueError:
            password = None
        if password:
            found.update({password, unquote(password)})
    return sorted((value for value in found if value), key=len, reverse=True)


_URL_CREDENTIALS = re.compile(r"(://[^/\s:@]*:)[^@\s/]+@")


def mask(text: str, env: Mapping[str, str]) -> str:
    """``text`` with every secret of ``env`` (and any URL password) replaced by ``***``."""
    for secret in secret_values(env):
        text = text.replace(secret, MASK)
    return _URL_CREDENTIALS.sub(rf"\1{MASK}@", text)


@dataclass(frozen=True)
class ModeApi:
    """A mode's API as this module's REST helpers take it: a label, its base URL, and the env
    whose secrets ``masked`` hides from a message."""

    label: str
    base_url: str
    env: dict[str, str] = field(repr=False)

    def masked(self, text: str) -> str:
        return mask(text, self.env)


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


# -- the app's own venv ----------------------------------------------------


@dataclass(frozen=True)
class AppVenv:
    """A complete venv holding the pinned app."""

    path: Path
    #: Seconds ensure_app_venv took (the build, or only the check when reused).
    seconds: float
    built: bool

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def hive(self) -> Path:
        return self.path / "bin" / "hive"


def cache_root() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/hive-infra/app-venv``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "hive-infra" / "app-venv"


def venv_key(constraints: Path = CONSTRAINTS, requirements: Sequence[str] = APP_REQUIREMENTS) -> str:
    """Hash of the pins, the requirements and the interpreter's minor version."""
    digest = hashlib.sha256(constraints.read_bytes())
    digest.update("\0".join(requirements).encode())
    digest.update(f"\0python{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()[:16]


def _complete(venv: Path) -> bool:
    return (venv / COMPLETE_MARKER).is_file() and os.access(venv / "bin" / "hive", os.X_OK)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One builder per cache key at a time (parallel pytest runs wait here)."""
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_logged(cmd: Sequence[str | Path], log: IO[str], timeout: float) -> None:
    log.write(f"$ {' '.join(str(part) for part in cmd)}\n")
    log.flush()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    subprocess.run(
        [str(part) for part in cmd],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        timeout=timeout,
        check=True,
    )


def _pip_reason(log_path: Path) -> str:
    """The telling lines of a failed pip run: the first network retry and the errors."""
    lines = tail(log_path, 200).splitlines()
    picked = [line for line in lines if "Retrying" in line][:1]
    picked += [line for line in lines if line.startswith("ERROR")]
    return "\n".join(line[:300] for line in picked) or "\n".join(lines[-15:])


def ensure_app_venv(
    constraints: Path = CONSTRAINTS,
    requirements: Sequence[str] = APP_REQUIREMENTS,
    root: Path | None = None,
    timeout: float = 900,
) -> AppVenv:
    """The app's venv under ``root/<key>``: reused when complete, else built.

    Built in place under a lock and marked complete only after pip succeeded
    (a venv cannot be renamed: its scripts name their own folder), so a build
    cut short is found incomplete and redone. Raises AppUnavailable when pip
    cannot install the app, with the end of pip's log (kept beside the venv).
    """
    started = time.monotonic()
    root = root or cache_root()
    key = venv_key(constraints, requirements)
    target = root / key
    if _complete(target):
        return AppVenv(target, time.monotonic() - started, built=False)
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive(root / f"{key}.lock"):
        if _complete(target):  # another run built it while we waited
            return AppVenv(target, time.monotonic() - started, built=False)
        shutil.rmtree(target, ignore_errors=True)
        log_path = root / f"{key}.log"
        try:
            with open(log_path, "w") as log:
                _run_logged([sys.executable, "-m", "venv", target], log, timeout)
                pip: list[str | Path] = [
                    target / "bin" / "python",
                    "-m",
                    "pip",
                    "install",
                    "--no-input",
                    "-c",
                    constraints,
                ]
                _run_logged([*pip, *requirements], log, timeout)
        except (OSError, subprocess.SubprocessError) as exc:
            shutil.rmtree(target, ignore_errors=True)
            if isinstance(exc, subprocess.CalledProcessError):
                command = " ".join([Path(exc.cmd[0]).name, *exc.cmd[1:4]])
                why = f"`{command}` exited with {exc.returncode}"
            else:
                why = f"{type(exc).__name__}: {exc}"
            raise AppUnavailable(
                f"could not install {' '.join(requirements)} into {target}: {why}; "
                f"from pip's log ({log_path}):\n{mask(_pip_reason(log_path), {})}"
            ) from None
        seconds = time.monotonic() - started
        marker = {"key": key, "requirements": list(requirements), "python": sys.version, "seconds": round(seconds, 1)}
        (target / COMPLETE_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        return AppVenv(target, seconds, built=True)


# -- a project and a running server ------------------------------------------


def base_env(home: Path, venv: AppVenv) -> dict[str, str]:
    """What every app process gets besides a mode's keys: nothing from our own environment.

    ``AGNO_TELEMETRY=false``: the app would otherwise post usage data off the machine.
    """
    return {
        "PATH": f"{venv.path / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONUNBUFFERED": "1",
        "AGNO_TELEMETRY": "false",
    }


def _hive_cli(venv: AppVenv, args: Sequence[str], cwd: Path, home: Path) -> None:
    done = subprocess.run(
        [str(venv.hive), *args],
        cwd=cwd,
        env=base_env(home, venv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`hive {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def create_project(venv: AppVenv, parent: Path, name: str = "hive_tier") -> Path:
    """A project made by the app's CLI, with one agent whose storage is PostgreSQL.

    ``hive init project`` makes ``hive.yaml``, ``pyproject.toml``, ``ai/`` (an
    example ``support-bot`` whose ``agent.py`` has no storage) and a ``.env``
    full of placeholders (``HIVE_DATABASE_URL=...automagik_hive``,
    ``OPENAI_API_KEY=your_openai_key_here``), which is deleted: the app must
    see only the mode's exported environment. ``hive create agent`` makes a
    YAML-only agent with SQLite storage; its storage becomes ``type: postgres``
    without ``connection``, so the app takes ``HIVE_DATABASE_URL`` from the
    process environment (``os.getenv``: a value only in ``./.env`` is not seen).
    """
    home = parent / "home"
    home.mkdir(exist_ok=True)
    _hive_cli(venv, ["init", "project", name], cwd=parent, home=home)
    project = parent / name
    _hive_cli(venv, ["create", "agent", AGENT_ID], cwd=project, home=home)
    config_path = project / "ai" / "agents" / AGENT_ID / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["storage"] = {"type": "postgres", "table_name": SESSION_TABLE}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    (project / ".env").unlink()
    return project


@dataclass
class HiveApp:
    """``hive serve`` for one mode, in its own copy of the project."""

    label: str
    env: dict[str, str]
    workdir: Path
    venv: AppVenv
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    started_at: float = field(default=0.0, init=False)

    def __repr__(self) -> str:  # the env holds secrets: never in a repr
        return f"HiveApp({self.label!r}, port={self.env.get('HIVE_API_PORT')}, workdir={str(self.workdir)!r})"

    @property
    def port(self) -> int:
        return int(self.env["HIVE_API_PORT"])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir.parent / f"{self.workdir.name}.log"

    def masked(self, text: str) -> str:
        return mask(text, self.env)

    def launch(self, project: Path) -> None:
        """Copy the project, then start ``hive serve --host 127.0.0.1`` (port: HIVE_API_PORT)."""
        shutil.copytree(project, self.workdir)
        stray = self.workdir / ".env"
        if stray.exists():
            raise RuntimeError(f"{stray} exists: the app would read it besides the mode's environment")
        home = self.workdir.parent / f"{self.workdir.name}-home"
        home.mkdir(exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                [str(self.venv.hive), "serve", "--host", "127.0.0.1"],
                cwd=self.workdir,
                env={**base_env(home, self.venv), **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches any child
            )

    def wait_ready(self, timeout: float = 90) -> float:
        """Seconds from launch until ``GET /health`` said ok; AppStartError otherwise."""
        if self.process is None:
            raise RuntimeError(f"{self.label}: not launched")
        deadline = self.started_at + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                self._fail(f"`hive serve` exited with code {code} before /health answered")
            try:
                response = api(self, "GET", "/health", timeout=2)
                if response.status == 200 and isinstance(response.body, dict) and response.body.get("status") == "ok":
                    seconds = time.monotonic() - self.started_at
                    TIMINGS.append((f"hive serve ({self.label}) ready", seconds))
                    return seconds
            except (OSError, ValueError):  # not listening yet, or a half-started server
                pass
            if time.monotonic() > deadline:
                self.stop()
                self._fail(f"GET {self.base_url}/health did not answer ok within {timeout:.0f} s")
            time.sleep(0.2)

    def _fail(self, what: str) -> None:
        raise AppStartError(
            self.masked(f"{self.label}: {what}; last lines of {self.log_path}:\n{tail(self.log_path)}")
        ) from None

    def stop(self, grace: float = 10) -> None:
        """SIGTERM to its process group, SIGKILL after ``grace`` seconds; safe to repeat."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


@contextlib.contextmanager
def running_apps(project: Path, apps: Iterable[HiveApp], timeout: float = 90) -> Iterator[dict[str, HiveApp]]:
    """Launch every app at once, wait until all answer ``/health``, yield them by label.

    Every app launched is stopped on the way out, whatever happened.
    """
    launched: list[HiveApp] = []
    try:
        for app in apps:
            launched.append(app)
            app.launch(project)
        for app in launched:
            app.wait_ready(timeout)
        yield {app.label: app for app in launched}
    finally:
        for app in launched:
            app.stop()


# -- the AgentOS REST API ------------------------------------------------------


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any


def api(
    app: HiveApp,
    method: str,
    path: str,
    *,
    query: Mapping[str, str | int] | None = None,
    body: Any = None,
    token: str | None = None,
    authenticate: bool = True,
    timeout: float = 30,
) -> ApiResponse:
    """One HTTP call. ``Authorization: Bearer <token>`` (default: the mode's
    HIVE_API_KEY) unless ``authenticate`` is false: AgentOS checks that header
    against ``OS_SECURITY_KEY`` and ignores it on a server that has none."""
    url = app.base_url + path + (f"?{urlencode(query)}" if query else "")
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if authenticate:
        bearer = token if token is not None else app.env.get("HIVE_API_KEY", "")
        headers["Authorization"] = f"Bearer {bearer}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode(errors="replace")
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return ApiResponse(status, parsed)


def _expect(app: HiveApp, response: ApiResponse, expected: int, what: str) -> Any:
    if response.status != expected:
        raise ApiError(
            app.masked(f"{app.label}: {what} answered {response.status}, expected {expected}: {response.body!r}")
        )
    return response.body


def create_memory(app: HiveApp, memory: str, user_id: str, topics: Sequence[str] = ()) -> dict[str, Any]:
    """``POST /memories`` ``{"memory", "user_id", "topics"}`` -> 200 and the stored memory.

    Stored as given in ``ai.agno_memories``; no model is involved.
    """
    body = {"memory": memory, "user_id": user_id, "topics": list(topics)}
    result: dict[str, Any] = _expect(app, api(app, "POST", "/memories", body=body), 200, "POST /memories")
    return result


def list_memories(app: HiveApp, user_id: str | None = None) -> list[dict[str, Any]]:
    """``GET /memories?user_id=...&limit=100`` -> ``{"data": [...], "meta": {...}}``."""
    query: dict[str, str | int] = {"limit": 100}
    if user_id is not None:
        query["user_id"] = user_id
    page = _expect(app, api(app, "GET", "/memories", query=query), 200, "GET /memories")
    data: list[dict[str, Any]] = page["data"]
    return data


def create_session(
    app: HiveApp, session_id: str, session_name: str, user_id: str, state: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``POST /sessions?type=agent`` with ``{"session_id", "session_name", "agent_id",
    "user_id", "session_state"}`` -> 201.

    AgentOS's "create an empty session" endpoint: it upserts an AgentSession
    row into the agent's session table (``ai.mode_agent_sessions``) and calls
    no model, unlike ``POST /agents/{id}/runs``.
    """
    body = {
        "session_id": session_id,
        "session_name": session_name,
        "agent_id": AGENT_ID,
        "user_id": user_id,
        "session_state": dict(state or {}),
    }
    response = api(app, "POST", "/sessions", query={"type": "agent"}, body=body)
    result: dict[str, Any] = _expect(app, response, 201, "POST /sessions")
    return result


def assert_own_key_only(modes: Mapping[str, Any]) -> None:
    """Each mode's API (a ``ModeApi`` or ``HiveApp`` by mode name) takes its own HIVE_API_KEY and
    refuses no key and another mode's: the tiers' check that the modes' keys are apart."""
    for mode, app in modes.items():
        assert api(app, "GET", "/sessions", query={"type": "agent"}).status == 200, f"{mode}: own key"
        no_key = api(app, "GET", "/sessions", query={"type": "agent"}, authenticate=False)
        assert no_key.status == 401, f"{mode}: no key is refused"
        other = next(m for m in modes if m != mode)
        wrong = api(app, "GET", "/sessions", query={"type": "agent"}, token=modes[other].env["HIVE_API_KEY"])
        assert wrong.status == 401, f"{mode}: {other}'s key is refused"


def list_sessions(app: HiveApp, user_id: str | None = None) -> list[dict[str, Any]]:
    """``GET /sessions?type=agent&user_id=...&limit=100`` -> ``{"data": [...], "meta": {...}}``."""
    query: dict[str, str | int] = {"type": "agent", "limit": 100}
    if user_id is not None:
        query["user_id"] = user_id
    page = _expect(app, api(app, "GET", "/sessions", query=query), 200, "GET /sessions")
    data: list[dict[str, Any]] = page["data"]
    return data


def get_session(app: HiveApp, session_id: str) -> ApiResponse:
    """``GET /sessions/{id}``: 200 with the session, 404 when this app's database lacks it."""
    return api(app, "GET", f"/sessions/{quote(session_id, safe='')}")


def agent_ids(app: HiveApp) -> list[str]:
    """The agents ``GET /config`` lists (the YAML agent is missing if its storage failed)."""
    config = _expect(app, api(app, "GET", "/config"), 200, "GET /config")
    return [agent["id"] for agent in config.get("agents", [])]


# -- the app's own database stack ------------------------------------------------

_PROBE = """
import json, os
from agno.db.postgres import PostgresDb
db = PostgresDb(db_url=os.environ["HIVE_DATABASE_URL"])
with db.db_engine.connect() as conn:
    row = conn.exec_driver_sql("SELECT current_setting('search_path'), current_user, current_database()").one()
print(json.dumps({"search_path": row[0], "user": row[1], "database": row[2]}))
"""


def probe_connection(venv: AppVenv, env: Mapping[str, str], home: Path) -> dict[str, str]:
    """Connect the way the app does (Agno's PostgresDb engine on HIVE_DATABASE_URL,
    in the app's venv) and report the session's search_path, user and database."""
    done = subprocess.run(
        [str(venv.python), "-c", _PROBE],
        env={**base_env(home, venv), "HIVE_DATABASE_URL": env["HIVE_DATABASE_URL"]},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(mask(f"probe failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}", env))
    result: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
