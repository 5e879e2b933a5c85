"""A stack's state made by an earlier version of the program, kept as a fixture.

``tests/fixtures/state-<commit>/`` holds what ``pulumi stack export`` printed for
an external-mode stack that the program at ``<commit>`` brought up (secrets
encrypted with the engine tier's passphrase), the stack's config file and the
.env files it wrote (as ``dot-env*``: the repository ignores ``.env*``). Every
absolute path of the temporary folder it was made in reads ``@ROOT@``.
:func:`install` puts it into a fresh :class:`Engine` (the config file, the .env
files, ``pulumi stack import``), so that the current program can preview it:
the proof that a stack made before a change upgrades with no change (issue
#21). Nothing is connected to at preview time: the PostgreSQL server it named
is long gone, and preview needs none.

Made once, with the engine built (``make engine``) and PostgreSQL installed::

    python -m tests.support.state_fixture 1cdf9f3

which takes that commit's program from git and writes ``tests/fixtures/state-1cdf9f3``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.support.engine import PROJECT_DIR, Engine, engine_bin, external_config, program_at

FIXTURES = PROJECT_DIR / "tests" / "fixtures"
STACK = "proof"
ROOT = "@ROOT@"
STATE_FILE = "stack.json"
CONFIG_FILE = f"Pulumi.{STACK}.yaml"
ENV_DIR = "env"
USER_LINE = "MY_MODEL_KEY=sk-mine-not-the-stacks\n"


def stored_name(name: str) -> str:
    """``.env.agent`` as the fixture keeps it, ``dot-env.agent``: git ignores ``.env*`` (and must)."""
    return "dot-" + name[1:] if name.startswith(".") else name


def live_name(name: str) -> str:
    return "." + name[len("dot-") :] if name.startswith("dot-") else name


def fixture_dir(commit: str) -> Path:
    return FIXTURES / f"state-{commit[:7]}"


def install(engine: Engine, commit: str) -> Path:
    """The fixture of ``commit`` as the stack ``STACK`` of ``engine``; its env folder."""
    source = fixture_dir(commit)
    root = str(engine.root)
    env_dir = engine.root / ENV_DIR
    env_dir.mkdir()
    for stored in (source / ENV_DIR).iterdir():
        path = env_dir / live_name(stored.name)
        path.write_text(stored.read_text())
        path.chmod(0o600)
    engine.run("stack", "init", STACK)
    (engine.program / CONFIG_FILE).write_text((source / CONFIG_FILE).read_text().replace(ROOT, root))
    state = engine.root / STATE_FILE
    state.write_text((source / STATE_FILE).read_text().replace(ROOT, root))
    engine.run("stack", "import", "--stack", STACK, "--file", str(state))
    return env_dir


def exported_resources(commit: str) -> list[dict[str, Any]]:
    """The resources of the fixture's state, as ``pulumi stack export`` wrote them."""
    deployment = json.loads((fixture_dir(commit) / STATE_FILE).read_text())["deployment"]
    resources: list[dict[str, Any]] = deployment["resources"]
    return resources


_LOAD_PICKLES = (
    "import base64, json, sys, dill\n"
    "stored = json.loads(sys.stdin.read())\n"
    "print(json.dumps({n: type(dill.loads(base64.b64decode(t))).__module__ for n, t in stored.items()}))\n"
)


def load_in_fresh_interpreter(pickles: dict[str, str], cwd: Path) -> dict[str, str]:
    """``{name: module of the loaded provider's class}`` for each base64 pickle, each loaded
    by a new interpreter in ``cwd`` (as the language host loads them: nothing imported before)."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_PICKLES], input=json.dumps(pickles), cwd=cwd,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"a stored provider does not load in {cwd}: {done.stderr[-2000:]}")
    loaded: dict[str, str] = json.loads(done.stdout)
    return loaded


def make(commit: str) -> Path:
    """Bring up the stack with the program at ``commit`` and write its fixture."""
    from tests.support.pgserver import ThrowawayPostgres

    target = fixture_dir(commit)
    with tempfile.TemporaryDirectory(prefix="hive-state-fixture-") as tmp:
        root = Path(tmp) / "engine"
        cluster = ThrowawayPostgres()
        server = cluster.start()
        try:
            engine = Engine(engine_bin(), root)
            engine.install_program(program_at(commit, Path(tmp) / "program"))
            env_dir = root / ENV_DIR
            env_dir.mkdir()
            (env_dir / ".env").write_text(USER_LINE)
            config = external_config(server, env_dir, "proof", "proof_app")
            engine.init_stack(STACK, config, secrets={"adminPassword": server.password})
            engine.run("up", "--yes", "--stack", STACK)
            engine.run("preview", "--stack", STACK, "--expect-no-changes")
            exported = engine.run("stack", "export", "--stack", STACK).stdout
            if target.exists():
                shutil.rmtree(target)
            (target / ENV_DIR).mkdir(parents=True)
            (target / STATE_FILE).write_text(exported.replace(str(root), ROOT))
            config_file = (engine.program / CONFIG_FILE).read_text()
            (target / CONFIG_FILE).write_text(config_file.replace(str(root), ROOT))
            for path in env_dir.iterdir():
                (target / ENV_DIR / stored_name(path.name)).write_text(path.read_text().replace(str(root), ROOT))
            engine.run("destroy", "--yes", "--stack", STACK)
        finally:
            cluster.stop()
    return target


if __name__ == "__main__":
    print(make(sys.argv[1]))
