"""Every module of the program reads in one sitting: none over 400 lines, no
function over 60 (the reorganisation of issue #21 keeps it so)."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(PROJECT_DIR / "hive_infra").rglob("*.py"), PROJECT_DIR / "__main__.py"])
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_the_sources_are_found() -> None:
    assert len(SOURCES) > 50 and PROJECT_DIR / "hive_infra" / "components" / "stack.py" in SOURCES, (
        "the walk sees the whole package"
    )


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(PROJECT_DIR)): n for p in SOURCES if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines, to split by what they hold: {long}"


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PROJECT_DIR)}:{node.lineno} {node.name}"] = length
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines, to split into named steps: {long}"
