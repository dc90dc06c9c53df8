"""Just enough Markdown reading for the docs tests: sections, tables, links, headings."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"

CODE_SPAN = re.compile(r"`([^`]+)`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def doc_pages() -> list[Path]:
    """README.md, CONTRIBUTING.md and every page in docs/."""
    return [README, CONTRIBUTING, *sorted(DOCS.glob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (where a '#' is a shell comment, not a heading)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def section(text: str, title: str) -> list[str]:
    """The prose lines under the heading ``title``, up to the next heading of its level or higher."""
    lines = prose_lines(text)
    for i, line in enumerate(lines):
        match = HEADING.match(line)
        if match and match.group(2) == title:
            level = len(match.group(1))
            body = []
            for following in lines[i + 1 :]:
                other = HEADING.match(following)
                if other and len(other.group(1)) <= level:
                    break
                body.append(following)
            return body
    raise AssertionError(f"no heading {title!r}")


def table_rows(lines: list[str]) -> list[list[str]]:
    """The body rows (cells stripped) of the first table in ``lines``; header and rule dropped."""
    rows: list[list[str]] = []
    for line in lines:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def single_code_span(cell: str) -> str | None:
    """The text of ``cell`` when the cell is exactly one code span, else None."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    return match.group(1) if match else None


def code_cell(cell: str) -> str:
    """The text of a cell that must be exactly one code span."""
    value = single_code_span(cell)
    assert value is not None, f"expected one `code span` in the cell, got {cell!r}"
    return value


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a page (lower case, punctuation dropped, '-' for spaces)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(2).replace("`", "").lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def links(text: str) -> list[str]:
    """Targets of the Markdown links and images outside code blocks and code spans."""
    found = []
    for line in prose_lines(text):
        found += LINK.findall(CODE_SPAN.sub("", line))
    return found
