"""A throwaway PostgreSQL server built from the machine's own binaries.

One fresh cluster (``initdb``) in a temporary folder, on a free port of
127.0.0.1, with its socket in that folder and password (scram-sha-256)
authentication everywhere, so that password checks are real. It never touches
a server already running on the machine: its own data dir, its own port.

PostgreSQL refuses to run as root: when the tests run as root, every server
command runs as the ``postgres`` OS user (``runuser -u postgres --``) and the
folder is handed to that user.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

#: Set to ``1`` (CI) to make a missing PostgreSQL a failure instead of a skip.
REQUIRE_ENV = "HIVE_REQUIRE_POSTGRES"
#: Optional override of the folder holding initdb, pg_ctl and postgres.
BINDIR_ENV = "HIVE_PG_BINDIR"
SUPERUSER = "postgres"
OS_USER = "postgres"
_SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL server binaries (or no OS user to run them as)."""


@dataclass(frozen=True)
class PgServer:
    """Where the throwaway server listens and how to log in as its superuser."""

    host: str
    port: int
    superuser: str
    password: str
    bindir: str
    socket_dir: str
    version: int

    def dsn(
        self, user: str | None = None, password: str | None = None, database: str = "postgres", **params: str
    ) -> str:
        """A libpq keyword/value string (``psycopg.connect``, ``psql``), every value quoted."""
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": user or self.superuser,
            "password": self.password if password is None else password,
            "dbname": database,
            **params,
        }
        return " ".join(f"{key}={_conninfo_quote(value)}" for key, value in parts.items())

    def url(
        self,
        user: str | None = None,
        password: str | None = None,
        database: str = "postgres",
        *,
        driver: str = "postgresql+psycopg",
        **query: str,
    ) -> str:
        """A URL (SQLAlchemy form by default; ``driver="postgresql"`` for libpq).

        User and password are percent-encoded, so any character works.
        """
        user = user or self.superuser
        password = self.password if password is None else password
        credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
        text = f"{driver}://{credentials}@{self.host}:{self.port}/{quote(database, safe='')}"
        if query:
            text += "?" + urlencode(query, quote_via=quote)
        return text

    def connect(self, user: str | None = None, password: str | None = None, database: str = "postgres", **kwargs):
        """A psycopg connection (autocommit unless told otherwise)."""
        import psycopg

        kwargs.setdefault("autocommit", True)
        return psycopg.connect(self.dsn(user, password, database), **kwargs)


def _conninfo_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres, or PostgresUnavailable."""
    candidates: list[Path] = []
    if os.environ.get(BINDIR_ENV):  # an explicit choice: only that folder
        candidates.append(Path(os.environ[BINDIR_ENV]))
    pg_config = None if candidates else shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass

    def version_key(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/bin$", path)
        return int(match.group(1)) if match else 0

    if not os.environ.get(BINDIR_ENV):
        candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True)]
        initdb = shutil.which("initdb")
        if initdb:
            candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / prog, os.X_OK) for prog in _SERVER_PROGRAMS):
            return bindir
    searched = ", ".join(str(c) for c in candidates) or "nothing found"
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; searched: "
        f"{searched}. Install them (Debian/Ubuntu: apt-get install postgresql) or set {BINDIR_ENV}."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    """Owns the temporary cluster: ``start()``, then ``stop()`` (idempotent)."""

    def __init__(self, password: str = "hive-superuser-pw", superuser: str = SUPERUSER) -> None:
        self.bindir = find_bindir()
        self.superuser = superuser
        self.password = password
        self.as_root = os.geteuid() == 0
        self.os_user = None
        if self.as_root:
            try:
                self.os_user = pwd.getpwnam(OS_USER)
            except KeyError as exc:
                raise PostgresUnavailable(
                    f"running as root and there is no {OS_USER!r} OS user to run PostgreSQL as "
                    "(it refuses root); install the postgresql package, which creates it"
                ) from exc
        self.tmp: Path | None = None
        self.server: PgServer | None = None
        self._running = False

    # -- helpers -----------------------------------------------------------
    def _run(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            runuser = shutil.which("runuser")
            if runuser:
                cmd = [runuser, "-u", OS_USER, "--", *cmd]
                extra: dict = {}
            else:  # no util-linux runuser: let Python switch user
                extra = {"user": self.os_user.pw_uid, "group": self.os_user.pw_gid}
        else:
            extra = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return subprocess.run(
            cmd, cwd=self.tmp, env=env, capture_output=True, text=True, timeout=timeout, check=check, **extra
        )

    def _chown(self, path: Path) -> None:
        if self.as_root:
            os.chown(path, self.os_user.pw_uid, self.os_user.pw_gid)

    # -- lifecycle ---------------------------------------------------------
    def start(self, attempts: int = 3) -> PgServer:
        self.tmp = Path(tempfile.mkdtemp(prefix="hive-pg-"))
        os.chmod(self.tmp, 0o700)
        self._chown(self.tmp)
        atexit.register(self.stop, immediate=True)  # backstop if the session dies early
        data, sock = self.tmp / "data", self.tmp / "sock"
        sock.mkdir()
        self._chown(sock)
        pwfile = self.tmp / "pwfile"
        pwfile.write_text(self.password + "\n")
        os.chmod(pwfile, 0o600)
        self._chown(pwfile)
        result = self._run(
            "initdb", "-D", str(data), "-U", self.superuser, f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-sync", check=False,
        )  # fmt: skip
        pwfile.unlink()
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        version = int((data / "PG_VERSION").read_text().strip())
        last_error = ""
        for _ in range(attempts):
            port = free_port()
            with open(data / "postgresql.auto.conf", "a") as conf:
                conf.write(
                    f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{sock}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "max_connections = 50\npassword_encryption = 'scram-sha-256'\n"
                )
            result = self._run(
                "pg_ctl", "-D", str(data), "-l", str(self.tmp / "server.log"), "-w", "-t", "30", "start", check=False
            )
            if result.returncode == 0:
                self._running = True
                self.server = PgServer(
                    host="127.0.0.1", port=port, superuser=self.superuser, password=self.password,
                    bindir=str(self.bindir), socket_dir=str(sock), version=version,
                )  # fmt: skip
                self._wait_accepting()
                return self.server
            log = (self.tmp / "server.log").read_text() if (self.tmp / "server.log").exists() else ""
            last_error = f"{result.stdout}\n{result.stderr}\n{log[-2000:]}"
        raise RuntimeError(f"could not start the throwaway PostgreSQL:\n{last_error}")

    def _wait_accepting(self, timeout: float = 15) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.server.dsn(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, immediate: bool = False) -> None:
        """Stop the server and delete its folder; safe to call more than once."""
        if self.tmp is None:
            return
        if self._running:
            for mode in ("immediate",) if immediate else ("fast", "immediate"):
                try:
                    done = self._run(
                        "pg_ctl", "-D", str(self.tmp / "data"), "-m", mode, "-w", "-t", "30", "stop", check=False
                    )
                except (OSError, subprocess.SubprocessError):
                    continue
                if done.returncode == 0:
                    break
            self._running = False
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None
