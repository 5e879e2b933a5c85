"""Where pg_dump and pg_restore run: local binaries, or ``docker exec`` in a container.

* ``LocalTools``: ``$HIVE_PG_BINDIR/<program>`` if set, else the program on
  PATH. A PostgreSQL client must then be installed, and its major must be at
  least the server's (``checks.dump_tool_problem``).
* ``DockerExecTools``: the same programs inside a running PostgreSQL container
  (the stack's shared one, or a legacy one), through the docker CLI
  (``$HIVE_DOCKER``, else ``docker`` on PATH). They are the server's own
  version, and nothing needs installing. Archives stream through the exec's
  stdout (dump) and stdin (list, restore); inside, the programs connect to
  ``localhost:5432``, the container's own server.

Credentials reach the programs as libpq variables in the child's environment;
``docker exec -e NAME`` (no ``=value``) copies a variable from the docker CLI's
environment into the container's, so no password is ever in an argument list.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from hive_infra.core.errors import CommandError, ExitCode
from hive_infra.machine.executables import find_executable
from hive_infra.pg.endpoint import LIBPQ_VARIABLES, Endpoint
from hive_infra.pg.versions import ToolVersion, parse_tool_version

#: Folder holding pg_dump and pg_restore (else PATH). The tests' server binaries use it too.
BINDIR_ENV = "HIVE_PG_BINDIR"
#: The docker CLI to run (else ``docker`` on PATH).
DOCKER_ENV = "HIVE_DOCKER"
TOOL_CHOICES = ("auto", "docker", "local")
VERSION_TIMEOUT_SECONDS = 60
#: Every program connects without ever prompting for a password.
_NO_PROMPT = "--no-password"
_RESTORE_FLAGS = ("--no-owner", "--no-acl", "--single-transaction", "--exit-on-error", _NO_PROMPT)
_TAIL_LINES = 6


def _tail(stderr: bytes | str) -> str:
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n    ".join(lines[-_TAIL_LINES:]) or "(no message)"


def _conninfo_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def dbname_arg(database: str) -> str:
    """``--dbname`` as a conninfo naming only the database (so a name holding
    ``=`` is never read as more); host, user and password come from the environment."""
    return f"--dbname=dbname={_conninfo_quote(database)}"


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any libpq variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in LIBPQ_VARIABLES}
    env.update(extra)
    return env


class PgTools(ABC):
    """pg_dump/pg_restore somewhere. Every method raises ``CommandError`` on failure."""

    #: Where the programs run, for messages: ``local /usr/bin`` or ``docker exec <name>``.
    where: str

    @abstractmethod
    def version(self, program: str) -> ToolVersion: ...

    @abstractmethod
    def dump(self, source: Endpoint, out: IO[bytes], snapshot: str | None) -> None:
        """``pg_dump --format=custom`` of ``source`` into ``out``."""

    @abstractmethod
    def toc(self, archive: Path) -> str:
        """``pg_restore --list`` of ``archive``."""

    @abstractmethod
    def restore(self, target: Endpoint, archive: Path, toc_list: str, *, clean: bool) -> None:
        """``pg_restore`` of the entries of ``toc_list``, in one transaction, without owners or grants."""

    def _version_of(self, program: str, argv: Sequence[str], env: Mapping[str, str]) -> ToolVersion:
        try:
            done = subprocess.run(
                argv, env=dict(env), capture_output=True, text=True, timeout=VERSION_TIMEOUT_SECONDS,
                stdin=subprocess.DEVNULL, check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            raise CommandError(f"{program} ({self.where}) cannot be run: {exc}") from None
        found = parse_tool_version(program, done.stdout, self.where) if done.returncode == 0 else None
        if found is None:
            raise CommandError(
                f"{program} ({self.where}) did not answer --version as a PostgreSQL program: "
                f"{_tail(done.stderr or done.stdout)}"
            )
        return found

    def _run(
        self,
        what: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        stdin: IO[bytes] | None = None,
        stdout: IO[bytes] | None = None,
    ) -> bytes:
        try:
            done = subprocess.run(
                argv, env=dict(env), stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE, check=False,
            )  # fmt: skip
        except OSError as exc:
            raise CommandError(f"{what} ({self.where}) cannot be run: {exc}", code=ExitCode.FAILED) from None
        if done.returncode != 0:
            raise CommandError(
                f"{what} failed ({self.where}), exit code {done.returncode}:\n    {_tail(done.stderr)}", ExitCode.FAILED
            )
        return done.stdout or b""


class LocalTools(PgTools):
    """The client programs installed on this machine."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir
        self.where = f"local {bindir}" if bindir else "local, on PATH"

    @classmethod
    def from_env(cls) -> LocalTools:
        bindir = os.environ.get(BINDIR_ENV)
        return cls(Path(bindir) if bindir else None)

    def program(self, name: str) -> str:
        if self.bindir is not None:
            path = self.bindir / name
            if not os.access(path, os.X_OK):
                raise CommandError(f"{BINDIR_ENV}={self.bindir} holds no executable {name}")
            return str(path)
        found = shutil.which(name)
        if found is None:
            raise CommandError(
                f"no {name} on PATH: install the PostgreSQL client of the server's major "
                f"(Debian/Ubuntu: postgresql-client-16) or point {BINDIR_ENV} at its bin folder"
            )
        return found

    def version(self, program: str) -> ToolVersion:
        path = self.program(program)
        found = self._version_of(program, [path, "--version"], child_env({}))
        return ToolVersion(found.program, found.text, found.major, f"local {path}")

    def dump(self, source: Endpoint, out: IO[bytes], snapshot: str | None) -> None:
        argv = [self.program("pg_dump"), "--format=custom", _NO_PROMPT]
        if snapshot:
            argv.append(f"--snapshot={snapshot}")
        self._run(f"pg_dump of {source.describe()}", argv, child_env(source.libpq_env()), stdout=out)

    def toc(self, archive: Path) -> str:
        return self._run(
            f"pg_restore --list {archive.name}", [self.program("pg_restore"), "--list", str(archive)], child_env({})
        ).decode()

    def restore(self, target: Endpoint, archive: Path, toc_list: str, *, clean: bool) -> None:
        with tempfile.TemporaryDirectory(prefix="hive-restore-") as tmp:
            listing = Path(tmp) / "restore.list"
            listing.write_text(toc_list)
            argv = [self.program("pg_restore"), *_RESTORE_FLAGS, *(("--clean", "--if-exists") if clean else ())]
            argv += [f"--use-list={listing}", dbname_arg(target.database), str(archive)]
            self._run(f"pg_restore into {target.describe()}", argv, child_env(target.libpq_env()))


def docker_command(alternative: str = "") -> str:
    """The docker CLI's path; a ``CommandError`` naming the fixes (and ``alternative``, where the caller
    has one) when it is not found."""
    name, found = find_executable(DOCKER_ENV, "docker")
    if found is None:
        raise CommandError(f"the docker CLI ({name}) is not on PATH: install it, point {DOCKER_ENV} at it{alternative}")
    return found


#: Seconds a ``docker inspect`` may take before the daemon counts as not answering.
INSPECT_TIMEOUT_SECONDS = 30


class DockerInspectError(Exception):
    """``docker inspect`` could not run or failed; the message says which, with docker's last line."""


def inspect_container(container: str, fmt: str) -> str | None:
    """``docker inspect --type container --format FMT CONTAINER``'s output, stripped; None when
    there is no such container. Raises ``DockerInspectError`` otherwise."""
    try:
        done = subprocess.run(
            [docker_command(), "inspect", "--type", "container", "--format", fmt, container],
            capture_output=True, text=True, timeout=INSPECT_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError, CommandError) as exc:
        raise DockerInspectError(f"docker inspect {container} could not run ({exc})") from None
    if done.returncode != 0:
        if "no such" in done.stderr.lower():
            return None
        tail = done.stderr.strip().splitlines()[-1:] or ["(no message)"]
        raise DockerInspectError(f"docker inspect {container} failed: {tail[0]}")
    return done.stdout.strip()


class DockerExecTools(PgTools):
    """The programs inside a running PostgreSQL container (``docker exec``)."""

    def __init__(self, container: str, docker: str | None = None) -> None:
        self.container = container
        self.docker = docker or docker_command(", or run the PostgreSQL client installed here with --tools local")
        self.where = f"docker exec {container}"

    def _exec(
        self, args: Sequence[str], endpoint: Endpoint | None = None, *, stdin: bool = False
    ) -> tuple[list[str], dict[str, str]]:
        """The docker argv and environment: every libpq variable by name only."""
        inside = endpoint.inside_container().libpq_env() if endpoint is not None else {}
        argv = [self.docker, "exec"]
        if stdin:
            argv.append("--interactive")
        for name in sorted(inside):
            argv += ["--env", name]
        argv += [self.container, *args]
        return argv, child_env(inside)

    def version(self, program: str) -> ToolVersion:
        argv, env = self._exec([program, "--version"])
        return self._version_of(program, argv, env)

    def dump(self, source: Endpoint, out: IO[bytes], snapshot: str | None) -> None:
        args = ["pg_dump", "--format=custom", _NO_PROMPT]
        if snapshot:
            args.append(f"--snapshot={snapshot}")
        argv, env = self._exec(args, source)
        self._run(f"pg_dump of {source.describe()}", argv, env, stdout=out)

    def toc(self, archive: Path) -> str:
        argv, env = self._exec(["pg_restore", "--list"], stdin=True)
        with open(archive, "rb") as data:
            return self._run(f"pg_restore --list {archive.name}", argv, env, stdin=data).decode()

    def restore(self, target: Endpoint, archive: Path, toc_list: str, *, clean: bool) -> None:
        # pg_restore reads its list from a file: put one in the container's /tmp (0600), remove it after.
        listing = f"/tmp/hive-infra-restore-{secrets.token_hex(8)}.list"
        with tempfile.TemporaryFile() as text:
            text.write(toc_list.encode())
            text.seek(0)
            argv, env = self._exec(["sh", "-c", 'umask 077 && cat > "$1"', "sh", listing], stdin=True)
            self._run(f"writing the restore list into {self.container}", argv, env, stdin=text)
        try:
            args = ["pg_restore", *_RESTORE_FLAGS, *(("--clean", "--if-exists") if clean else ())]
            args += [f"--use-list={listing}", dbname_arg(target.database)]
            argv, env = self._exec(args, target, stdin=True)
            with open(archive, "rb") as data:
                self._run(f"pg_restore into {target.describe()}", argv, env, stdin=data)
        finally:
            argv, env = self._exec(["rm", "-f", listing])
            subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)


def choose_tools(choice: str, container: str | None, what: str) -> PgTools:
    """``auto``: ``docker exec`` in ``container`` when there is one, else local
    binaries; ``docker`` or ``local`` force one."""
    if choice not in TOOL_CHOICES:
        raise CommandError(f"--tools {choice}: choose one of {', '.join(TOOL_CHOICES)}")
    if choice == "local" or (choice == "auto" and container is None):
        return LocalTools.from_env()
    if container is None:
        raise CommandError(
            f"--tools docker: {what} runs in no container that this machine knows of; use --tools local",
            ExitCode.REFUSED,
        )
    return DockerExecTools(container)
