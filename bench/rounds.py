"""What every mode of the bench times: one round of a program under the real engine,
and the median of its rounds."""

from __future__ import annotations

import statistics

from tests.support.engine import TIMEOUT_SECONDS, Engine

#: A round: preview (external mode only), up from nothing, a no-op up, destroy.
STEPS = ("preview", "up", "no-op up", "destroy")
#: A round without the preview (container and Kubernetes modes).
UP_STEPS = ("up", "no-op up", "destroy")


def lifecycle(
    engine: Engine, stack: str, steps: tuple[str, ...] = STEPS, timeout: float = TIMEOUT_SECONDS
) -> dict[str, float]:
    """One round: (preview,) up, no-op up, destroy; seconds of each."""

    def pulumi(*args: str) -> float:
        return engine.run(*args, "--stack", stack, timeout=timeout).seconds

    times = {}
    if "preview" in steps:
        times["preview"] = pulumi("preview")
    times["up"] = pulumi("up", "--yes", "--skip-preview")
    times["no-op up"] = pulumi("up", "--yes", "--expect-no-changes")
    times["destroy"] = pulumi("destroy", "--yes", "--skip-preview")
    return times


def median(rounds: list[dict[str, float]], steps: tuple[str, ...]) -> dict[str, float]:
    """Each step's median seconds over ``rounds``."""
    return {step: statistics.median(r[step] for r in rounds) for step in steps}
