"""Pulumi.yaml's ``config:`` block and the README's config table, rendered from
the declarations in ``settings.py``.

``python -m hive_infra.config.docs --write`` rewrites both files (``make docs``);
``--check`` exits 1 when either differs (the test suite checks the same). Only
keys with a default are declared in Pulumi.yaml: the Pulumi CLI treats a
declared key without a default as required ("Stack 'dev' is missing
configuration value ..."), so optional keys without one (generated secrets,
``postgresHost``, ``dataPath``, ...) are documented in the README only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hive_infra.config import CONFIG_KEYS, NAMESPACE, ConfigKey

PROJECT_DIR = Path(__file__).resolve().parents[2]
PULUMI_YAML = PROJECT_DIR / "Pulumi.yaml"
README = PROJECT_DIR / "README.md"
TABLE_BEGIN = "<!-- config-table:begin (generated from hive_infra/config/settings.py by `make docs`) -->"
TABLE_END = "<!-- config-table:end -->"
CONFIG_BLOCK = "config:\n"


def declared_in_pulumi_yaml(key: ConfigKey) -> bool:
    return key.default is not None


def pulumi_yaml_config() -> str:
    """The ``config:`` block, the last block of Pulumi.yaml."""
    lines = [
        CONFIG_BLOCK.rstrip(),
        "  # Generated from hive_infra/config/settings.py by `make docs`. Keys without a default are optional",
        "  # and documented in the README only: the Pulumi CLI requires every key declared here.",
    ]
    for key in CONFIG_KEYS:
        if not declared_in_pulumi_yaml(key):
            continue
        lines.append(f"  {NAMESPACE}:{key.name}:")
        lines.append(f"    type: {key.type}")
        if key.type == "array":
            lines += ["    items:", "      type: string"]
        lines.append(f"    default: {json.dumps(key.yaml_default)}")
        if key.secret:
            lines.append("    secret: true")
        lines.append(f"    description: {json.dumps(key.description)}")
    return "\n".join(lines) + "\n"


def _type_text(key: ConfigKey) -> str:
    kind = "array of string" if key.type == "array" else key.type
    return f"secret {kind}" if key.secret else kind


def _default_text(key: ConfigKey) -> str:
    if key.default is None:
        return key.declaration.default_doc or "unset"
    if isinstance(key.default, tuple):
        return "`[" + ", ".join(key.default) + "]`"
    if isinstance(key.default, bool):
        return f"`{str(key.default).lower()}`"
    return f"`{key.default}`"


def readme_table() -> str:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key in CONFIG_KEYS:
        rows.append(f"| `{key.name}` | {_type_text(key)} | {_default_text(key)} | {key.description} |")
    return "\n".join(rows) + "\n"


def with_pulumi_yaml_config(text: str) -> str:
    """Pulumi.yaml's text with its ``config:`` block (the last one) rendered anew."""
    head, found, _ = text.partition("\n" + CONFIG_BLOCK)
    if not found:
        raise ValueError("Pulumi.yaml has no top-level `config:` block")
    return head + "\n" + pulumi_yaml_config()


def with_block(text: str, begin: str, end: str, body: str, page: str) -> str:
    """``text`` with ``body`` between the lines ``begin`` and ``end`` (generated blocks of a page)."""
    head, found_begin, rest = text.partition(begin + "\n")
    _, found_end, tail = rest.partition(end)
    if not (found_begin and found_end):
        raise ValueError(f"{page} lacks the markers {begin!r} ... {end!r}")
    return head + found_begin + body + found_end + tail


def with_readme_table(text: str) -> str:
    """README's text with the table between the markers rendered anew."""
    return with_block(text, TABLE_BEGIN, TABLE_END, readme_table(), "README.md")


def sync(pages: Sequence[tuple[Path, Callable[[str], str]]], action: str, source: str) -> int:
    """``write``: each page rendered anew where it differs; ``check``: 1 when one differs."""
    stale = []
    for path, render in pages:
        text = path.read_text(encoding="utf-8")
        wanted = render(text)
        if wanted == text:
            continue
        if action == "write":
            path.write_text(wanted, encoding="utf-8")
            print(f"rewrote {path.name}")
        else:
            stale.append(path.name)
    if stale:
        print(f"{', '.join(stale)} differ from {source}; run `make docs`", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hive_infra.config.docs", description=__doc__)
    parser.add_argument("action", choices=("check", "write"))
    args = parser.parse_args(argv)
    pages = ((PULUMI_YAML, with_pulumi_yaml_config), (README, with_readme_table))
    return sync(pages, args.action, "hive_infra/config/settings.py")


if __name__ == "__main__":
    sys.exit(main())
