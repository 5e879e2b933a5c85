"""Stand-ins for Docker: a fake SDK client (what ``adopt.detect.list_containers``
asks) and a fake ``docker`` CLI that runs ``docker exec`` commands with this
machine's own binaries, against the server a container name stands for.

The fake CLI behaves as ``docker exec`` does where it matters here: the
command gets a fresh environment (the container's, not the caller's), ``--env
NAME`` copies NAME from the CLI's environment (``--env NAME=value`` sets it),
and inside, ``localhost:5432`` is the container's own server, which the fake
translates to the test server's address. Every argv is logged, so a test can
check that no password ever reaches one.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class FakeContainer:
    name: str
    status: str
    ports: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=lambda: {"Mounts": []})


def published(port: int) -> dict[str, Any]:
    """The ``ports`` of a container publishing its 5432 on ``port``."""
    return {"5432/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}


class FakeDockerClient:
    """Answers ``ping`` and ``containers.list(all=True)``, as ``list_containers`` needs."""

    def __init__(self, containers: list[FakeContainer], ping_error: Exception | None = None) -> None:
        self._containers = containers
        self._ping_error = ping_error
        self.containers = self

    def ping(self) -> bool:
        if self._ping_error is not None:
            raise self._ping_error
        return True

    def list(self, **kwargs: Any) -> list[FakeContainer]:
        return list(self._containers)


@dataclass
class FakeDockerCli:
    path: Path
    log: Path

    @property
    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def execs(self, container: str, program: str) -> list[list[str]]:
        """The ``docker exec`` calls that ran ``program`` in ``container``."""
        out = []
        for argv in self.calls:
            rest = [a for a in argv[1:] if a not in ("--interactive",)]
            while rest and rest[0] == "--env":
                rest = rest[2:]
            if rest[:2] == [container, program]:
                out.append(argv)
        return out


_SCRIPT = """#!{python}
import json, os, sys
SERVERS = {servers!r}
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if not args or args[0] != "exec":
    sys.exit("fake docker: only exec is faked")
i, names = 1, []
while i < len(args) and args[i].startswith("-"):
    if args[i] in ("-i", "--interactive"):
        i += 1
    elif args[i] in ("-e", "--env"):
        names.append(args[i + 1])
        i += 2
    else:
        sys.exit("fake docker: unknown option " + args[i])
container, command = args[i], args[i + 1:]
if container not in SERVERS:
    sys.stderr.write("Error response from daemon: No such container: " + container + "\\n")
    sys.exit(1)
host, port, bindir = SERVERS[container]
env = {{"PATH": bindir + ":/usr/bin:/bin", "LC_ALL": "C"}}
for name in names:
    if "=" in name:
        key, value = name.split("=", 1)
        env[key] = value
    elif name in os.environ:
        env[name] = os.environ[name]
if env.get("PGHOST") == "localhost" and env.get("PGPORT") == "5432":
    env["PGHOST"], env["PGPORT"] = host, str(port)
os.execvpe(command[0], command, env)
"""


def make_fake_docker_cli(folder: Path, servers: dict[str, tuple[str, int, str]]) -> FakeDockerCli:
    """Write ``folder/docker``; ``servers`` maps a container name to (host, port, bindir)."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "docker-calls.jsonl"
    script = folder / "docker"
    script.write_text(_SCRIPT.format(python=sys.executable, servers=servers, log=str(log)))
    script.chmod(0o755)
    return FakeDockerCli(script, log)
