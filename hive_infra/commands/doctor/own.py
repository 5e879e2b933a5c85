"""The doctor's verdicts on a deployed stack's own objects: what a plain ``up`` does not look at.

Pure, like ``checks``: ``probe.own_facts`` gathers what it needs of Docker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hive_infra.commands.doctor.checks import WARN, Verdict, ours, stack_container_names
from hive_infra.config import HiveConfig
from hive_infra.legacy.containers import ContainerInfo


@dataclass(frozen=True)
class OwnFacts:
    """What doctor learns of a deployed stack's own objects beyond their list."""

    #: The API image the stack builds and whether Docker still has it (None: it builds none).
    built_image: tuple[str, bool] | None = None
    #: ``{API container: why it cannot reach its database}`` of each running API that cannot.
    unreachable: Mapping[str, str] = field(default_factory=dict)


def repair_fix(label: str) -> str:
    """The command that puts a stack's stopped or removed objects back, as it is run."""
    return f"make repair STACK={label.rsplit('/', 1)[-1]}"


def check_own_containers(
    containers: Sequence[ContainerInfo], cfg: HiveConfig, label: str, own: OwnFacts | None = None
) -> list[Verdict]:
    """The stack's own containers stopped or removed by hand, its built image removed, and an API
    that answers but cannot reach its database: a plain ``up`` looks at none of them.

    A deployed stack is recognised by its containers: when some of them are there,
    a missing one was removed by hand (when none is, the stack is not up yet).
    """
    own = own or OwnFacts()
    fix = repair_fix(label)
    why = "a plain `pulumi up` does not look at Docker (docs/operations.md: Troubleshooting)"
    found = {c.name: c for c in containers if ours(c, label) and c.name in stack_container_names(cfg)}
    verdicts = [
        Verdict(WARN, f"container {name}", f"this stack's container is {c.status}; {why}", fix)
        for name, c in sorted(found.items())
        if c.status != "running"
    ]
    if not found:
        return verdicts
    verdicts += [
        Verdict(WARN, f"container {name}", f"this stack's container is gone (removed by hand?); {why}", fix)
        for name in sorted(stack_container_names(cfg) - set(found))
    ]
    if own.built_image is not None and not own.built_image[1]:
        verdicts.append(
            Verdict(WARN, f"image {own.built_image[0]}", f"the API image this stack built is gone; {why}", fix)
        )
    postgres = None if cfg.external else found.get(cfg.names.postgres_container)
    # The stack's own server stopped or gone: the repair brings it back; a server elsewhere: its logs say why.
    server_down = not cfg.external and (postgres is None or postgres.status != "running")
    for name, reason in sorted(own.unreachable.items()):
        verdicts.append(
            Verdict(
                WARN,
                f"container {name}",
                f"its API answers, but cannot reach its database: {reason}",
                fix if server_down else f"docker logs {name}",
            )
        )
    return verdicts
