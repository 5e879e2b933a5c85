"""The API container's healthcheck probe, run as Docker would run it (exec form, no shell)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hive_infra.components.api import go_duration, health_command
from tests.support.pgserver import free_port


class _Health(BaseHTTPRequestHandler):
    """Answers 200 on /health, 503 on /sick, 404 elsewhere."""

    def do_GET(self) -> None:
        status = {"/health": 200, "/sick": 503}.get(self.path, 404)
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def api_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def probe(port: int, path: str) -> int:
    """Run the healthcheck's command as Docker's exec form does, with this interpreter as python3."""
    cmd = health_command(port, path)
    assert cmd[0] == "CMD", "exec form: Docker runs the argument list without a shell"
    argv = [sys.executable if cmd[1] == "python3" else cmd[1], *cmd[2:]]
    return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (2, "2s"), (59, "59s"), (60, "1m0s"), (90, "1m30s"), (120, "2m0s"), (3600, "1h0m0s"), (3725, "1h2m5s")],
)
def test_durations_are_written_as_go_writes_them(seconds: int, text: str) -> None:
    assert go_duration(seconds) == text, "the docker provider reads durations back in Go's form; any other is a diff"


def test_the_probe_needs_only_python3() -> None:
    cmd = health_command(8886, "/api/v1/health")
    assert cmd[:5] == ["CMD", "python3", "-I", "-S", "-c"], "the image's own Python, isolated and without site"
    words = {word for part in cmd for word in part.replace(";", " ").split()}
    assert not {"curl", "wget", "sh", "bash", "nc"} & words, f"no tool a python:3.11-slim image lacks: {cmd}"
    assert cmd[-1] == "http://127.0.0.1:8886/api/v1/health", "the container's own port, on loopback"


def test_healthy_when_the_api_answers(api_port: int) -> None:
    assert probe(api_port, "/health") == 0, "a 200 answer is healthy (exit 0)"


@pytest.mark.parametrize("path", ["/sick", "/api/v1/health"])
def test_unhealthy_on_an_error_status(api_port: int, path: str) -> None:
    assert probe(api_port, path) == 1, f"{path}: a 4xx/5xx answer is unhealthy (exit 1), e.g. a wrong apiHealthPath"


def test_unhealthy_when_nothing_listens() -> None:
    assert probe(free_port(), "/health") == 1, "a refused connection is unhealthy (exit 1), not a crash of Docker"
