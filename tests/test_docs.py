"""The documentation's links hold: every link between README.md and docs/ names a file
that exists and a heading it has, and every pointer the code gives a user
(``README: Configuration``, ``docs/operations.md: Troubleshooting``) names a heading
of that file, and every module, package and path docs/architecture.md names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.program import PROJECT_DIR

PAGES = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
#: ``README: Section`` or ``docs/<page>.md: Section``, the section ending at ) " ; or the line's end.
POINTER = re.compile(r"\b(README|docs/[\w-]+\.md): ([A-Z][^()\"\n;]*?)(?=[)\";]|\.\s|\.$|$)", re.M)
POINTING = [
    *(PROJECT_DIR / "hive_infra").rglob("*.py"),
    PROJECT_DIR / "Makefile",
    PROJECT_DIR / ".ci" / "run",
    *(PROJECT_DIR / ".github").rglob("*"),
    *(PROJECT_DIR / "scripts").rglob("*"),
]


def headings(page: Path) -> list[str]:
    """The page's headings, outside code blocks."""
    found, fence = [], False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (match := re.match(r"#{1,4} (.+)", line)):
            found.append(match.group(1).strip())
    return found


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", ""))
    return text.replace(" ", "-")


def test_the_pages_are_found() -> None:
    names = {p.name for p in PAGES}
    assert {"README.md", "operations.md", "backups-and-migration.md", "delivery.md", "testing.md"} <= names, names
    assert {"architecture.md"} <= names, "and the architecture"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_names_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in {slug(h) for h in headings(linked)}:
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert not broken, f"{page.name} links to what is not there: {broken}"


def test_every_pointer_in_the_code_names_a_heading_of_its_page() -> None:
    pointers, broken = 0, []
    for source in POINTING:
        if not source.is_file():
            continue
        for page, section in POINTER.findall(source.read_text(errors="replace")):
            pointers += 1
            target = PROJECT_DIR / ("README.md" if page == "README" else page)
            if not target.exists() or section.strip().rstrip(".") not in headings(target):
                broken.append(f"{source.relative_to(PROJECT_DIR)}: {page}: {section.strip()}")
    assert pointers >= 10, f"the pointers are found ({pointers}): the pattern still matches how the code writes them"
    assert not broken, f"pointers to headings that are not there: {broken}"


ARCHITECTURE = PROJECT_DIR / "docs" / "architecture.md"
#: A backticked path of two parts or more (``core/outputs.py``, ``hive_infra/pg/``) or a ``.py`` file; a
#: dotted module (``hive_infra.envfile``); a module of the packages table (``modes``, ``doctor/``).
PATH_NAME = re.compile(r"`((?:[\w.-]+/)+[\w.-]+/?|[\w-]+\.py)`")
DOTTED_NAME = re.compile(r"(?<![\w/.])((?:hive_infra|tests)(?:\.\w+)+)")
IDENTIFIER = re.compile(r"`([a-z_][a-z0-9_]*/?)`")


def _exists(name: str, *bases: Path) -> bool:
    """``name`` (a path, or a module without ``.py``) is a file or folder under one of ``bases``."""
    name = name.rstrip("/")
    return any((base / name).exists() or (base / f"{name}.py").exists() for base in bases)


def _table_modules(text: str) -> list[tuple[str, str]]:
    """(package folder, module) for every module the packages table names in a row's second
    column: each backticked name (from its package, or from hive_infra/ for a subpackage's
    module), but a module's attributes (``keys``: ``CONFIG_KEYS``)."""
    named = []
    for row in re.findall(r"^\| `(hive_infra/[\w/]+/)` \| (.+?) \| .+ \|$", text, re.M):
        package, holds = row
        holds = re.sub(r"\(`[a-z_]+`: [^)]*\)", lambda m: m.group(0).split(":")[0], holds)
        named += [(package, name) for name in IDENTIFIER.findall(holds)]
    return named


def _tree_paths(text: str) -> list[str]:
    """Every path the Layout section's tree names, a nested entry under its folder."""
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    paths, folder = [], ""
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip())
        if not line.strip() or indent >= 20:
            continue  # a description's continuation
        names = re.match(r"(?:[^\s,]+, )*[^\s,]+", line.strip())
        for name in names.group(0).split(", ") if names else []:
            path = f"{folder}{name}" if indent else name
            paths.append(path)
            if not indent and name.endswith("/"):
                folder = name
    return paths


def test_every_module_and_package_the_architecture_names_exists() -> None:
    """A newcomer finds each thing where docs/architecture.md says: its paths (from the
    project or from ``hive_infra/``), dotted modules, the modules of the packages table
    and the Layout tree."""
    text = ARCHITECTURE.read_text()
    package = PROJECT_DIR / "hive_infra"
    missing = [p for p in PATH_NAME.findall(text) if not _exists(p, PROJECT_DIR, package)]
    missing += [d for d in DOTTED_NAME.findall(text) if not _exists(d.replace(".", "/"), PROJECT_DIR)]
    table = _table_modules(text)
    missing += [f"{p}{m} (table)" for p, m in table if not _exists(m, PROJECT_DIR / p, package)]
    tree = _tree_paths(text)
    missing += [f"{p} (Layout)" for p in tree if not _exists(p, PROJECT_DIR)]
    assert len(table) > 30 and len(tree) > 20, (
        f"the names are found ({len(table)} in the table, {len(tree)} in the tree)"
    )
    assert not missing, f"docs/architecture.md names what is not there: {missing}"


def test_no_module_or_page_calls_itself_a_floor() -> None:
    """A plan called its stages "Floor N"; the code and the docs say what a thing is instead."""
    said = [
        str(path.relative_to(PROJECT_DIR))
        for path in [*(PROJECT_DIR / "hive_infra").rglob("*.py"), *PAGES]
        if re.search(r"\bFloor \d", path.read_text())
    ]
    assert not said, f"these still say 'Floor N': {said}"
