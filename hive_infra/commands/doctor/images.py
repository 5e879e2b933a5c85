"""The doctor's verdicts on the images the stack runs or builds on: each one present here,
or pullable (its registry answers for that reference), else a FAIL naming it and the fix.

Pure, like ``checks``: ``probe.image_facts`` and ``probe.stack_data`` ask Docker and the
CLI. The fix for a default image that cannot be had is ``make local-images`` (equivalents
built here from Debian packages; ``make up`` runs it by itself) only while the stack holds
no data: its PostgreSQL is 17, and a different major on existing data is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from hive_infra.commands.doctor.checks import FAIL, OK, Verdict
from hive_infra.config import HiveConfig, parse_config


@dataclass(frozen=True)
class ImageFacts:
    """What Docker says of one image reference."""

    present: bool
    #: None when the registry answered for it (pullable); else why not. Unused when present.
    pull_error: str | None = None


@dataclass(frozen=True)
class StackData:
    """What tells whether the stack holds data already; None where it could not be asked."""

    #: Resources in the stack's state (0 for a stack not created yet).
    resources: int | None
    #: Whether the PostgreSQL data volume of the stack's name exists.
    volume_exists: bool | None


@cache
def _defaults() -> HiveConfig:
    return parse_config({}, [])


def stack_images(cfg: HiveConfig) -> dict[str, str]:
    """``{config key: image}`` of each image the stack runs (PostgreSQL's, a set ``apiImage``)
    or builds on (``apiBaseImage``)."""
    images = {} if cfg.external else {"postgresImage": cfg.postgres_image}
    if cfg.api_containers:
        images |= {"apiBaseImage": cfg.api_base_image} if cfg.builds_api_image else {"apiImage": cfg.api_image or ""}
    return images


def is_default(key: str, image: str) -> bool:
    """``image`` is ``key``'s default, the one ``make local-images`` has a stand-in for."""
    return key in ("postgresImage", "apiBaseImage") and image == stack_images(_defaults()).get(key)


def holds_data(cfg: HiveConfig, data: StackData) -> bool:
    """The stack has (or may have: not known) data a PostgreSQL of another major would meet."""
    return bool(cfg.data_path or cfg.adopt_database or data.resources != 0 or data.volume_exists is not False)


def local_images_fix(stack: str) -> str:
    return (
        f"make local-images STACK={stack} (builds stand-ins here from Debian packages: PostgreSQL 17 with "
        "pgvector, Debian's Python 3.11; `make up` runs it by itself)"
    )


def check_images(
    cfg: HiveConfig, facts: Mapping[str, ImageFacts], data: StackData, stack: str, volume: str
) -> list[Verdict]:
    """One verdict per image of ``stack_images``: present, pullable, or a FAIL with its fix."""
    verdicts = []
    for key, image in stack_images(cfg).items():
        fact = facts.get(image)
        what = f"image {image}"
        if fact is None:
            continue
        if fact.present:
            verdicts.append(Verdict(OK, what, f"({key}) present here"))
            continue
        if fact.pull_error is None:
            verdicts.append(Verdict(OK, what, f"({key}) not here; its registry answers for it (`up` pulls it)"))
            continue
        detail = f"({key}) not here, and it cannot be pulled: {fact.pull_error}"
        if is_default(key, image) and not holds_data(cfg, data):
            verdicts.append(Verdict(FAIL, what, detail, local_images_fix(stack)))
            continue
        fix = f"make it available here (`docker pull` once its registry answers, `docker load`), or set hive:{key}"
        if is_default(key, image):
            why = _data_reason(cfg, data, volume)
            fix += f"; not `make local-images`: it sets a PostgreSQL 17 too, and stack {stack} holds data ({why})"
        verdicts.append(Verdict(FAIL, what, detail, fix))
    return verdicts


def _data_reason(cfg: HiveConfig, data: StackData, volume: str) -> str:
    if cfg.data_path:
        return f"dataPath {cfg.data_path}"
    if cfg.adopt_database:
        return "adoptDatabase"
    if data.resources:
        return f"{data.resources} resources in its state"
    if data.volume_exists:
        return f"the volume {volume}"
    return "it could not be told that it holds none"
