"""The README stays a front door, the pages explain themselves, and every link leads somewhere."""

import re
from pathlib import Path

import pytest

from .markdown import DOCS, README, ROOT, doc_pages, heading_anchors, links

README_MAX_LINES = 220
# Files that do not ship with the project: a page must say what it means itself.
UNSHIPPED = re.compile(r"design\.md|source documents?|\bseeds?\b|\.\./shared", re.IGNORECASE)


def test_readme_stays_short() -> None:
    lines = README.read_text().count("\n")
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move detail into a docs/ page"


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_it_cites_no_file_that_does_not_ship(page: Path) -> None:
    hits = [
        f"{page.name}:{number}: {line.strip()}"
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if UNSHIPPED.search(line)
    ]
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file(page: Path) -> None:
    broken = []
    for target in links(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif (
            anchor and destination.suffix == ".md" and anchor not in heading_anchors(destination.read_text())
        ):
            broken.append(f"{target}: no heading with that anchor in {destination.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_every_docs_page_is_on_the_readme_map() -> None:
    mapped = {(README.parent / target.partition("#")[0]).resolve() for target in links(README.read_text())}
    missing = [page.name for page in sorted(DOCS.glob("*.md")) if page.resolve() not in mapped]
    assert not missing, f"README.md links to no {missing}"
