"""The documentation's links hold: every link between README.md and docs/ names a file
that exists and a heading it has, and every pointer the code gives a user
(``README: Configuration``, ``docs/operations.md: Troubleshooting``) names a heading
of that file."""

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
