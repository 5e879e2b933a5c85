"""A stand-in ``pulumi`` CLI for the commands' tests: recorded outputs and config, logged calls."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hive_infra.core.outputs import SECRET_NAMES
from tests.support.mocks import Secret
from tests.support.program import config_values


@dataclass
@dataclass
class FakePulumi:
    """A stand-in ``pulumi`` CLI: prints recorded ``stack output --json`` and logs its arguments."""

    path: Path
    calls_log: Path

    @property
    def calls(self) -> list[list[str]]:
        if not self.calls_log.exists():
            return []
        return [json.loads(line) for line in self.calls_log.read_text().splitlines()]


def make_fake_pulumi(
    folder: Path,
    outputs: Mapping[str, Any] | None = None,
    *,
    exit_code: int = 0,
    stderr: str = "",
    config: Mapping[str, Any] | None = None,
    version: str = "v3.200.0",
    stack_name: str = "dev",
    failing: Sequence[str] | None = None,
) -> FakePulumi:
    """Write an executable ``pulumi`` into ``folder``.

    ``stack output``: with ``--show-secrets`` it prints ``outputs``; without,
    every secret output (``databaseUrls``, ``apiKeys``, ``envFiles``) as
    ``"[secret]"``, as the real CLI does. ``config --json`` prints ``config``,
    full keys (``hive:dbPort``) to plain values or ``Secret(value)``, in the
    CLI's shape (``{"value": text, "secret": bool}``; a secret's value only
    with ``--show-secrets``, an array also as ``objectValue``). ``version``
    and ``stack --show-name`` print ``version`` and ``stack_name``.
    ``exit_code``/``stderr`` make every call fail, or with ``failing`` only the
    commands named there (``"config"``, ``"version"``, ``"stack output"``)."""
    folder.mkdir(parents=True, exist_ok=True)
    shown = json.dumps(dict(outputs or {}))
    hidden = json.dumps({k: ("[secret]" if k in SECRET_NAMES else v) for k, v in (outputs or {}).items()})
    config_shown, config_hidden = {}, {}
    for key, value in (config or {}).items():
        secret = isinstance(value, Secret)
        plain = value.value if secret else value
        entry: dict[str, Any] = {"value": next(iter(config_values({"k": plain}).values())), "secret": secret}
        if isinstance(plain, (list, tuple)):
            entry["objectValue"] = list(plain)
        config_shown[key] = entry
        config_hidden[key] = {"secret": True} if secret else entry
    calls_log = folder / "pulumi-calls.jsonl"
    script = folder / "pulumi"
    script.write_text(
        f"""#!{sys.executable}
import json, sys
args = sys.argv[1:]
with open({str(calls_log)!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
words = [a for a in args if not a.startswith("-")]
command = "stack output" if words[:2] == ["stack", "output"] else (words[0] if words else "")
failing = {list(failing) if failing is not None else None!r}
if {exit_code} and (failing is None or command in failing):
    sys.stderr.write({stderr!r})
    sys.exit({exit_code})
show = "--show-secrets" in args
if command == "version":
    print({version!r})
elif command == "stack" and "--show-name" in args:
    print({stack_name!r})
elif command == "config":
    print(json.dumps({config_shown!r} if show else {config_hidden!r}))
else:
    print({shown!r} if show else {hidden!r})
"""
    )
    script.chmod(0o755)
    return FakePulumi(script, calls_log)
