"""Wall time of the real engine on this program, beside a one-resource program.

    venv/bin/python bench/engine.py [--runs 3]

For each of preview, up, no-op up and destroy: this program in external mode
(against a throwaway PostgreSQL, as the engine tier runs it) and a program of
one RandomPassword, in the same run, the median of ``--runs`` rounds, printed
as a table with the ratios. Needs the engine built (scripts/build-pulumi.sh)
and PostgreSQL server binaries, as the test tiers do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.engine.engine import Engine, engine_bin
from tests.engine.test_external_stack import config_for
from tests.integration.pgserver import ThrowawayPostgres

ONE_RESOURCE = """import pulumi
import pulumi_random as random

pulumi.export("n", random.RandomPassword("one", length=16, special=False).result.apply(len))
"""
STEPS = ("preview", "up", "no-op up", "destroy")


def one_resource_engine(bin_dir: Path, root: Path) -> Engine:
    engine = Engine(bin_dir, root)
    (engine.program / "__main__.py").write_text(ONE_RESOURCE)
    (engine.program / "Pulumi.yaml").write_text(
        "name: bench\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
    )
    return engine


def lifecycle(engine: Engine, stack: str) -> dict[str, float]:
    """One round: preview, up, no-op up, destroy; seconds of each."""
    times = {
        "preview": engine.run("preview", "--stack", stack).seconds,
        "up": engine.run("up", "--yes", "--skip-preview", "--stack", stack).seconds,
        "no-op up": engine.run("up", "--yes", "--expect-no-changes", "--stack", stack).seconds,
    }
    times["destroy"] = engine.run("destroy", "--yes", "--skip-preview", "--stack", stack).seconds
    return times


def measure(runs: int, make: Callable[[int], tuple[Engine, str]]) -> dict[str, float]:
    rounds = []
    for i in range(runs):
        engine, stack = make(i)
        rounds.append(lifecycle(engine, stack))
    return {step: statistics.median(r[step] for r in rounds) for step in STEPS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds per program (the median is shown)")
    args = parser.parse_args()
    bin_dir = engine_bin()
    cluster = ThrowawayPostgres()
    server = cluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
            root = Path(tmp)

            def hive(i: int) -> tuple[Engine, str]:
                engine = Engine(bin_dir, root / f"hive-{i}")
                env_dir = root / f"env-{i}"
                env_dir.mkdir()
                config = {**config_for(server, env_dir, f"bench{i}", f"bench{i}_app"), "dropSchemasOnDestroy": "true"}
                engine.init_stack("bench", config, secrets={"adminPassword": server.password})
                return engine, "bench"

            def one(i: int) -> tuple[Engine, str]:
                engine = one_resource_engine(bin_dir, root / f"one-{i}")
                engine.run("stack", "init", "bench")
                return engine, "bench"

            program, baseline = measure(args.runs, hive), measure(args.runs, one)
    finally:
        cluster.stop()
    print(f"median of {args.runs} rounds, seconds")
    print(f"{'step':<10} {'hive (external)':>16} {'one resource':>13} {'ratio':>6}")
    for step in STEPS:
        print(f"{step:<10} {program[step]:>16.2f} {baseline[step]:>13.2f} {program[step] / baseline[step]:>6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
