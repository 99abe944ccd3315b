"""Griffe extension for the API site: reStructuredText simple tables in docstrings become Markdown.

The env modules open with a card written as an RST simple table (``=====  =====`` borders, a
continuation line leaves the first column empty). mkdocstrings renders docstrings as Markdown, so
this extension rewrites each such table as a Markdown table (the first row is the header when the
table has a header border, otherwise the header is left empty), and a paragraph ending in ``::``
(RST's literal-block marker) ends in ``:`` instead (the indented block after it is a Markdown
code block already), and a Sphinx role such as ``:func:`~a.b``` becomes the code span ``b``. Only the text handed to the renderer changes; the sources stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_BORDER = re.compile(r"^(\s*)=+(\s+=+)+\s*$")
#: Sphinx cross-reference roles, e.g. :func:`~coopsim.core.game.MechanismGame` -> `MechanismGame`
_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj|exc):`(~?)([^`]+)`")


def _role(m: re.Match[str]) -> str:
    target = m.group(2)
    return f"`{target.rsplit('.', 1)[-1] if m.group(1) else target}`"


def _columns(border: str) -> list[tuple[int, int | None]]:
    """Column spans ``(start, end)`` of a border line (the last column runs to the line's end)."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", border)]
    return [(s, spans[i + 1][0] if i + 1 < len(spans) else None) for i, (s, _) in enumerate(spans)]


def _rows(lines: list[str], cols: list[tuple[int, int | None]]) -> list[list[str]]:
    """Cells of the rows between two borders; a line with an empty first column continues a row."""
    rows: list[list[str]] = []
    for line in lines:
        if not line.strip():
            continue
        cells = [line[s:e].strip() if e is not None else line[s:].strip() for s, e in cols]
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]
    return rows


def _markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    def escape(cell: str) -> str:  # a pipe ends a cell unless escaped; inside a code span it does not
        parts = re.split(r"(`+[^`]*`+)", cell)
        return "".join(p if p.startswith("`") else p.replace("|", "\\|") for p in parts)

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(escape(c) for c in cells) + " |"

    return ["", line(header), "|" + "---|" * len(header), *(line(r) for r in rows), ""]


def convert(text: str) -> str:
    """``text`` with RST simple tables as Markdown tables, ``::`` markers as ``:`` and Sphinx roles as code."""
    lines = _ROLE.sub(_role, text).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _BORDER.match(lines[i]):
            out.append(re.sub(r"(\S)::$", r"\1:", lines[i]))
            i += 1
            continue
        cols = _columns(lines[i])
        borders = [i] + [j for j in range(i + 1, len(lines)) if _BORDER.match(lines[j])][:2]
        # a header table is border, header, border, rows, border: its second border is followed by a row
        after = borders[1] + 1 if len(borders) > 1 else len(lines)
        if len(borders) == 3 and not (after < len(lines) and lines[after].strip()):
            borders = borders[:2]
        if len(borders) == 3:
            header = _rows(lines[borders[0] + 1 : borders[1]], cols)[0]
            rows = _rows(lines[borders[1] + 1 : borders[2]], cols)
        else:
            header, rows = [""] * len(cols), _rows(lines[borders[0] + 1 : borders[1]], cols)
        out.extend(_markdown(header, rows))
        i = borders[-1] + 1
    return "\n".join(out)


class RstTables(griffe.Extension):
    """Rewrite RST simple tables and literal-block markers in every loaded docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ("==" in obj.docstring.value or ":" in obj.docstring.value):
            obj.docstring.value = convert(obj.docstring.value)
