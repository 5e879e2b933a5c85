"""The commands start without Pulumi's SDK: ``python -m hive_infra`` validates
config with the pure ``hive_infra.config`` and reads a stack through the
``pulumi`` CLI, so it never needs ``pulumi`` or ``grpc`` (about 0.4 s of imports)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.program import PROJECT_DIR


def imported_modules(*args: str) -> set[str]:
    """Every module ``python -X importtime -m hive_infra ARGS`` imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hive_infra", *args],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"python -m hive_infra {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}"
    )
    lines = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    return set(lines[1:])  # the first line is the header


@pytest.mark.parametrize("command", ["status", "doctor", "adopt", "db", "migrate"])
def test_a_command_starts_without_pulumi_or_grpc(command: str) -> None:
    modules = imported_modules(command, "--help")
    assert "hive_infra.commands.status" in modules, "the import trace is read (the commands were imported)"
    loaded = sorted(m for m in modules if m.split(".")[0] in {"pulumi", "grpc", "pulumi_docker", "pulumi_postgresql"})
    assert not loaded, f"`{command} --help` loads Pulumi's SDK or grpc, which no command needs: {loaded[:8]}"
