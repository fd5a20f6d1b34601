"""The published definitions: MEASURES.md as a page, each section with the anchor the dashboard links to.

MEASURES.md is written in a small part of Markdown (headings, paragraphs, lists, tables, bold and code),
so it is rendered here rather than with a Markdown library; anchors are made as GitHub makes them, so a
link works on the page served and on the file in the repository alike.
"""

import re
from functools import cache
from html import escape
from pathlib import Path

_HERE = Path(__file__).resolve()
# In a wheel the file is packaged beside the code; in a checkout (editable installs) it is the project's own.
_PLACES = (_HERE.parents[1] / "MEASURES.md", _HERE.parents[4] / "MEASURES.md")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def definition_link(heading: str) -> str:
    return f"/definitions#{anchor(heading)}"


def _inline(text: str) -> str:
    html = escape(text, quote=False)
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def render_markdown(text: str) -> tuple[str, str]:
    """The document's title and its body as HTML."""
    title, parts, lines = "", [], text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("# "):
            title, i = line[2:].strip(), i + 1
        elif line.startswith("## "):
            heading = line[3:].strip()
            parts.append(f"<h2 id='{anchor(heading)}'>{_inline(heading)}</h2>")
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            head, body = rows[0], [row for row in rows[1:] if not all(set(cell) <= set("-: ") for cell in row)]
            header = "".join(f"<th>{_inline(cell)}</th>" for cell in head)
            cells = "".join("<tr>" + "".join(f"<td>{_inline(cell)}</td>" for cell in row) + "</tr>" for row in body)
            parts.append(f"<table><tr>{header}</tr>{cells}</table>")
        elif line.startswith("- "):
            items: list[str] = []
            while i < len(lines) and (lines[i].startswith("- ") or lines[i].startswith("  ")):
                if lines[i].startswith("- "):
                    items.append(lines[i][2:].strip())
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            parts.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
        else:
            paragraph = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("#", "|", "- ")):
                paragraph.append(lines[i].strip())
                i += 1
            parts.append(f"<p>{_inline(' '.join(paragraph))}</p>")
    return title, "".join(parts)


@cache
def published_definitions() -> tuple[str, str]:
    """MEASURES.md, rendered: its title and body."""
    source = next(place for place in _PLACES if place.exists())
    return render_markdown(source.read_text(encoding="utf-8"))
