"""A deployed stack's outputs, read through the Pulumi CLI.

The commands (``status``, ``doctor``, ``db``, ``migrate``) learn what a stack
made from ``pulumi stack output --json``, never from its state files: the CLI
knows the backend, decrypts secrets with the stack's own secrets provider and
works the same for a local folder, S3 or Pulumi Cloud.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hive_infra.core.outputs import PORTS, POSTGRES
from hive_infra.machine.executables import find_executable

#: Where the Pulumi CLI is looked up when ``PULUMI`` does not name it.
PULUMI_ENV = "HIVE_PULUMI"
PROJECT_DIR = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 120


class StackOutputsError(Exception):
    """The outputs could not be read; the message says why and what to do (never a secret)."""


@dataclass(frozen=True)
class StackOutputs:
    """The outputs of one stack. Secret ones are present only when read with ``show_secrets``."""

    stack: str | None
    values: Mapping[str, Any] = field(repr=False)

    def get(self, key: str) -> Any:
        if key not in self.values:
            where = f"stack {self.stack}" if self.stack else "the selected stack"
            raise StackOutputsError(
                f"{where} has no output {key!r}: it was not deployed by this version of hive-infra (run `pulumi up`)"
            )
        return self.values[key]

    @property
    def modes(self) -> list[str]:
        return list(self.get(PORTS.name))

    @property
    def postgres(self) -> dict[str, Any]:
        return dict(self.get(POSTGRES.name))

    def mode_value(self, key: str, mode: str) -> Any:
        values = self.get(key)
        if mode not in values:
            raise StackOutputsError(f"mode {mode!r} is not deployed in this stack (it has {', '.join(values)})")
        return values[mode]


def pulumi_command() -> str:
    """The Pulumi CLI to run: ``$HIVE_PULUMI``, else ``pulumi`` on PATH."""
    name, found = find_executable(PULUMI_ENV, "pulumi")
    if found is None:
        raise StackOutputsError(
            f"the Pulumi CLI ({name}) is not on PATH; install it (https://www.pulumi.com/docs/install/) "
            f"or point {PULUMI_ENV} at it"
        )
    return found


def read_stack_outputs(
    stack: str | None = None,
    *,
    show_secrets: bool = False,
    cwd: Path = PROJECT_DIR,
    extra_args: Sequence[str] = (),
) -> StackOutputs:
    """``pulumi stack output --json`` of ``stack`` (default: the selected one)."""
    cmd = [pulumi_command(), "stack", "output", "--json", "--non-interactive", *extra_args]
    if show_secrets:
        cmd.append("--show-secrets")
    if stack:
        cmd += ["--stack", stack]
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise StackOutputsError(f"`pulumi stack output` did not answer within {TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        # The CLI's own message (no stack selected, wrong passphrase, ...) says what to do.
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise StackOutputsError(f"`pulumi stack output` failed: {reason}")
    try:
        values = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        raise StackOutputsError("`pulumi stack output --json` printed something that is not JSON") from None
    if not isinstance(values, dict):
        raise StackOutputsError("`pulumi stack output --json` printed no object of outputs")
    return StackOutputs(stack, values)
