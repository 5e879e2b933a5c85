"""The outputs are declared once (``hive_infra.core.outputs``): the program exports
exactly those, secret where declared, and the README's
Outputs table lists each with its secrecy."""

from __future__ import annotations

import re

from hive_infra.core.outputs import OUTPUTS, SECRET_NAMES
from tests.support.program import PROJECT_DIR, ProgramRun

README = PROJECT_DIR / "README.md"


def test_names_and_attributes_are_unique_and_the_secrets_are_the_three_with_credentials() -> None:
    assert len({o.name for o in OUTPUTS}) == len({o.attribute for o in OUTPUTS}) == len(OUTPUTS) == 10, (
        "ten outputs, each name and attribute once"
    )
    assert {"databaseUrls", "apiKeys", "envFiles"} == SECRET_NAMES, "the outputs holding a password or key are secret"


def test_the_program_exports_each_declared_output_as_declared(program) -> None:
    run: ProgramRun = program({})
    exported = run.outputs
    docker = [o for o in OUTPUTS if o.platform in (None, "docker")]
    assert list(exported) == [o.name for o in docker], f"exports in the declared order, no other: {list(exported)}"
    for output in docker:
        assert exported[output.name].secret is output.secret, f"{output.name}: secret is {output.secret}"


def test_the_readme_outputs_table_lists_every_output_with_its_secrecy() -> None:
    section = README.read_text().split("## Outputs", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| (yes|no) \|", section, re.M))
    assert rows == {o.name: "yes" if o.secret else "no" for o in OUTPUTS}, f"README's Outputs table: {rows}"
