"""`make repair`, docs/operations.md's Troubleshooting and the Docker tier run the same commands."""

from __future__ import annotations

import re

from tests.support.dockerlib import REPAIR_TARGET
from tests.support.program import PROJECT_DIR

ROOT = PROJECT_DIR


def make_recipe(target: str) -> list[str]:
    """The command lines of a Makefile target."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"the Makefile has a {target} target"
    return [line.strip() for line in match.group(1).splitlines()]


def test_make_repair_refreshes_only_the_containers_then_ups() -> None:
    refresh, up = make_recipe("repair")
    assert refresh == f"pulumi refresh --yes --stack $(STACK) --target '{REPAIR_TARGET.format(stack='$(STACK)')}'", (
        "make repair refreshes exactly what the Docker tier refreshes"
    )
    assert up == "pulumi up --stack $(STACK)", "then a plain up puts back what is missing"


def test_troubleshooting_gives_the_same_commands() -> None:
    readme = (ROOT / "docs" / "operations.md").read_text()
    target = REPAIR_TARGET.format(stack="dev")
    assert f"pulumi refresh --yes --stack dev --target '{target}'" in readme, "Troubleshooting names the refresh"
    assert "make repair STACK=dev" in readme, "and the make target that runs it"
