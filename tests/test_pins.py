"""The Pulumi SDKs, the engine build and the workflows agree on one set of versions."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    """The engine's pins and the pulumi-kubernetes plugin's (built by their own scripts)."""
    found: dict[str, str] = {}
    for name in ("pulumi-pins.env", "pulumi-kubernetes-pins.env"):
        lines = (ROOT / "scripts" / name).read_text().splitlines()
        found |= dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return found


def constraints() -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in found}


def test_constraints_pin_exactly_the_versions_the_engine_is_built_at() -> None:
    built = pins()
    wanted = {"pulumi": built["PULUMI_VERSION"]}
    wanted |= {
        f"pulumi-{key[len('PULUMI_') : -len('_VERSION')].lower()}": value
        for key, value in built.items()
        if key.startswith("PULUMI_") and key.endswith("_VERSION") and key != "PULUMI_VERSION"
    }
    assert constraints() == wanted, "every pip install gets the SDKs the built CLI and plugins speak to"


def test_every_workflow_installs_the_pinned_cli() -> None:
    version = pins()["PULUMI_VERSION"]
    seen = 0
    for path in (ROOT / ".github" / "workflows").glob("*.yml"):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("pulumi/actions@"):
                    seen += 1
                    assert step.get("with", {}).get("pulumi-version") == version, (
                        f"{path.name}: a Pulumi step installs the CLI constraints.txt pins ({version})"
                    )
    assert seen >= 3, "the preview, deploy and container-stack jobs install the CLI"
