"""The default stack (container mode, no config at all) previews under the
real engine with its docker plugin and no Docker engine: ``DOCKER_HOST`` names
a socket nobody listens on (CI's own daemon runs, and is never stopped for
this), so the preview shows that the plugin needs no daemon to plan."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.engine import Engine


def test_a_default_stack_previews_without_a_docker_engine(pulumi_bin: Path, tmp_path: Path) -> None:
    dead = tmp_path / "no-daemon.sock"  # never created: every connection is refused
    engine = Engine(pulumi_bin, tmp_path / "engine", extra_env={"DOCKER_HOST": f"unix://{dead}"})
    engine.run("stack", "init", "dev")
    result = engine.run("preview", "--stack", "dev", check=False)
    assert result.code == 0, (
        "Pulumi.yaml requires no key (no declared key without a default), and the docker plugin needs no "
        f"daemon to preview:\n{result.output[-3000:]}"
    )
    created = re.search(r"\+ (\d+) to create", result.stdout)
    assert created and int(created.group(1)) >= 40, f"the whole default stack is planned:\n{result.stdout[-2000:]}"
    for name in ("hive-postgres-container", "hive-database-provider", "hive-api-workspace-container"):
        assert name in result.stdout, f"{name} is in the plan"
    assert not list(engine.program.glob(".env*")), "preview writes no .env file"
