"""Wall time of the real engine on this program, beside a minimal program.

    venv/bin/python bench/engine.py [--runs 3] [--modes external,container,kubernetes]

External mode: for each of preview, up, no-op up and destroy, this program
against a throwaway PostgreSQL (as the engine tier runs it) beside a program of
one RandomPassword. Container mode (when a Docker engine answers): up from
nothing, no-op up and destroy of the default stack with the Docker tier's images
(as the Docker tier runs it, on the default ports and names, which must be free)
beside a program of one container of the same PostgreSQL image with the same
healthcheck wait. Kubernetes mode (when the tier's cluster is up: scripts/cluster.sh
up): the same three steps of the stack with platform=kubernetes beside the
Kubernetes tier's one-Deployment program on the same cluster (bench/kubernetes.py).
Each is the median of ``--runs`` rounds, in one run, printed as tables with the
ratios; a mode that cannot be measured says why. Needs the engine built
(scripts/build-pulumi.sh) and PostgreSQL server binaries, as the test tiers do;
container and Kubernetes modes need the images (scripts/build-test-images.sh, run
here when missing), Kubernetes mode the pulumi-kubernetes plugin (make engine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import kubernetes
from bench.rounds import STEPS, UP_STEPS, lifecycle, median
from tests.support.dockerlib import (
    build_images,
    engine_answers,
    provide_wheels,
    refuse_if_taken,
    remove_labelled,
    stack_config,
)
from tests.support.engine import Engine, engine_bin, external_config
from tests.support.pgserver import ThrowawayPostgres

ONE_RESOURCE = """import pulumi
import pulumi_random as random

pulumi.export("n", random.RandomPassword("one", length=16, special=False).result.apply(len))
"""
ONE_CONTAINER = """import pulumi
import pulumi_docker as docker

config = pulumi.Config()
image = docker.RemoteImage("image", name=config.require("image"), keep_locally=True)
docker.Container(
    "postgres",
    name="hive-bench-one-postgres",
    image=image.image_id,
    envs=["POSTGRES_PASSWORD=bench-one-container-pass", "PGDATA=/var/lib/postgresql/data/pgdata"],
    ports=[docker.ContainerPortArgs(internal=5432, external=55432, ip="127.0.0.1")],
    labels=[docker.ContainerLabelArgs(label="org.automagik-hive.pulumi-stack", value="bench/one")],
    healthcheck=docker.ContainerHealthcheckArgs(
        tests=["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"], interval="5s", timeout="5s", retries=12
    ),
    wait=True,
)
"""
MODES = ("external", "container", "kubernetes")
#: Each mode's table: the program's column, the baseline's.
TABLES = {
    "external": ("hive (external)", "one resource"),
    "container": ("hive (default)", "one container"),
    "kubernetes": ("hive (kubernetes)", "one Deployment"),
}
#: The default stack's published ports and container names (refused when taken, never freed by force).
DEFAULT_PORTS = (5532, 8886, 38886, 48886)
DEFAULT_CONTAINERS = ("hive-postgres-shared", "hive-agents", "hive-agent-dev-server", "hive-genie-server")


def one_resource_engine(bin_dir: Path, root: Path) -> Engine:
    engine = Engine(bin_dir, root)
    (engine.program / "__main__.py").write_text(ONE_RESOURCE)
    (engine.program / "Pulumi.yaml").write_text(
        "name: bench\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
    )
    return engine


def one_container_engine(bin_dir: Path, root: Path, image: str) -> Engine:
    engine = one_resource_engine(bin_dir, root)
    (engine.program / "__main__.py").write_text(ONE_CONTAINER)
    engine.run("stack", "init", "bench")
    engine.run("config", "set", "--stack", "bench", "bench:image", image)
    return engine


def measure(runs: int, make: Callable[[int], tuple[Engine, str]], steps: tuple[str, ...] = STEPS) -> dict[str, float]:
    rounds = []
    for i in range(runs):
        engine, stack = make(i)
        rounds.append(lifecycle(engine, stack, steps))
    return median(rounds, steps)


def table(title: str, label: str, baseline_label: str, program: dict[str, float], baseline: dict[str, float]) -> None:
    print(title)
    wide, narrow = max(16, len(label)), max(14, len(baseline_label))
    print(f"{'step':<10} {label:>{wide}} {baseline_label:>{narrow}} {'ratio':>6}")
    for step, seconds in program.items():
        print(f"{step:<10} {seconds:>{wide}.2f} {baseline[step]:>{narrow}.2f} {seconds / baseline[step]:>6.1f}")


def container_mode(runs: int, bin_dir: Path, root: Path) -> tuple[dict[str, float], dict[str, float]]:
    """The default stack under Docker beside one container of the same image."""
    images = build_images()
    refuse_if_taken(DEFAULT_PORTS, DEFAULT_CONTAINERS, "hive/bench")
    config = stack_config(images)

    def hive(i: int) -> tuple[Engine, str]:
        engine = Engine(bin_dir, root / f"hive-docker-{i}")
        provide_wheels(images, engine.program)
        engine.init_stack("bench", config)
        return engine, "bench"

    def one(i: int) -> tuple[Engine, str]:
        return one_container_engine(bin_dir, root / f"one-docker-{i}", images.postgres), "bench"

    try:
        return measure(runs, hive, UP_STEPS), measure(runs, one, UP_STEPS)
    finally:
        remove_labelled("hive/bench")
        remove_labelled("bench/one")


def external_mode(runs: int, bin_dir: Path, root: Path) -> tuple[dict[str, float], dict[str, float]]:
    """This program in external mode against a throwaway PostgreSQL beside one RandomPassword."""
    cluster = ThrowawayPostgres()
    server = cluster.start()
    try:

        def hive(i: int) -> tuple[Engine, str]:
            engine = Engine(bin_dir, root / f"hive-{i}")
            env_dir = root / f"env-{i}"
            env_dir.mkdir()
            config = {
                **external_config(server, env_dir, f"bench{i}", f"bench{i}_app"),
                "dropSchemasOnDestroy": "true",
            }
            engine.init_stack("bench", config, secrets={"adminPassword": server.password})
            return engine, "bench"

        def one(i: int) -> tuple[Engine, str]:
            engine = one_resource_engine(bin_dir, root / f"one-{i}")
            engine.run("stack", "init", "bench")
            return engine, "bench"

        return measure(runs, hive), measure(runs, one)
    finally:
        cluster.stop()


def kubernetes_figures(runs: int, bin_dir: Path, root: Path) -> tuple[dict[str, float], dict[str, float]] | str:
    """Kubernetes mode's medians (bench/kubernetes.py), or why it was not measured."""
    try:
        needs = kubernetes.find_needs()
    except kubernetes.NotMeasured as exc:
        return str(exc)
    figures = kubernetes.kubernetes_mode(runs, bin_dir, needs, root)
    return figures.hive, figures.one


def parse_modes(text: str) -> tuple[str, ...]:
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = sorted(set(modes) - set(MODES))
    if unknown or not modes:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)} (comma-separated), not {text!r}")
    return modes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds per program (the median is shown)")
    parser.add_argument(
        "--modes",
        type=parse_modes,
        default=MODES,
        help=f"the modes to measure, comma-separated (default {','.join(MODES)})",
    )
    parser.add_argument("--no-docker", action="store_true", help="external mode only (as --modes external)")
    args = parser.parse_args()
    modes = ("external",) if args.no_docker else args.modes
    bin_dir = engine_bin()
    results: dict[str, tuple[dict[str, float], dict[str, float]] | str] = {}
    with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
        root = Path(tmp)
        if "external" in modes:
            results["external"] = external_mode(args.runs, bin_dir, root)
        if "container" in modes:
            docker_why = engine_answers()
            results["container"] = container_mode(args.runs, bin_dir, root) if docker_why is None else docker_why
        if "kubernetes" in modes:
            results["kubernetes"] = kubernetes_figures(args.runs, bin_dir, root)
    print(f"median of {args.runs} rounds, seconds")
    for mode, (label, baseline_label) in TABLES.items():
        result = results.get(mode, "not asked for: --modes")
        if isinstance(result, str):
            print(f"{mode} mode: not measured ({result})")
        else:
            table(f"{mode} mode", label, baseline_label, *result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
