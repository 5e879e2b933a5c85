"""A stack made before the reorganisation of issue #21 upgrades to this code with no change.

``tests/fixtures/state-1cdf9f3`` is what ``pulumi stack export`` printed for an
external-mode stack that the program at 1cdf9f3 brought up (three modes, their
.env files, the database objects, the layout guard, the backup resource). It is
imported into a fresh backend and previewed by today's program with
``--expect-no-changes``: every URN is the same, every dynamic provider's diff
says nothing changed. Then the pickled providers the state holds (by their old
module paths) are loaded by today's code. No server is connected to: the one
the stack was made on is gone, and a preview needs none.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.support.engine import Engine, changed_steps
from tests.support.state_fixture import STACK, USER_LINE, exported_resources, install, load_in_fresh_interpreter

COMMIT = "1cdf9f3"


@pytest.fixture(scope="module")
def engine(pulumi_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = Engine(pulumi_bin, tmp_path_factory.mktemp("state-upgrade"))
    install(engine, COMMIT)
    return engine


def test_the_stack_of_before_the_move_previews_with_no_change(engine: Engine) -> None:
    preview = engine.run("preview", "--stack", STACK, "--expect-no-changes", "--json", check=False)
    assert preview.code == 0, f"today's program must see the {COMMIT} stack as it is:\n{preview.failure_text()}"
    result = preview.json()
    changed = changed_steps(preview)
    assert not changed, f"no step but 'same' (a moved URN shows as create and delete): {changed}"
    stored = [r for r in exported_resources(COMMIT) if not r["type"].startswith("pulumi:providers:")]
    assert len(stored) == 21, f"the fixture holds the whole stack: {len(stored)} resources"
    summary = result.get("changeSummary", {})
    assert set(summary) == {"same"} and summary["same"] >= len(stored), (
        f"every one of the {len(stored)} stored resources is declared again, unchanged: {summary}"
    )
    assert (engine.root / "env" / ".env").read_text().startswith(USER_LINE), "preview leaves the user's line alone"


def _plaintext(value: str | dict[str, str]) -> str:
    """A state value as ``export --show-secrets`` prints it: a secret's JSON-encoded plaintext."""
    return json.loads(value["plaintext"]) if isinstance(value, dict) else value


def test_the_old_pickled_providers_load_in_todays_code(engine: Engine) -> None:
    exported = engine.run("stack", "export", "--stack", STACK, "--show-secrets").json()
    pickles = {
        r["urn"].rsplit("::", 1)[1]: _plaintext(r["inputs"]["__provider"])
        for r in exported["deployment"]["resources"]
        if "__provider" in r.get("inputs", {})
    }
    assert len(pickles) == 5, f"the layout guard, three EnvFiles and the backup hold a provider: {sorted(pickles)}"
    old_paths = {name: base64.b64decode(text) for name, text in pickles.items()}
    for name, raw in old_paths.items():
        assert b"hive_infra.providers" not in raw, f"{name}: the state holds the pickle of before the move"
    modules = load_in_fresh_interpreter(pickles, engine.program)
    assert set(modules.values()) == {
        "hive_infra.providers.stack_layout",
        "hive_infra.providers.envfile",
        "hive_infra.providers.backup",
    }, f"each old path resolves to the moved provider: {modules}"
