"""What the index searches in a notebook: its cells' sources (no outputs) and first heading.

Parsed with ``json`` only, no nbformat validation: the archive holds notebooks of up to 50 MB,
mostly outputs, and legacy notebooks of older formats (nbformat 3 keeps cells in worksheets and
code in ``input``). Anything that is not a notebook has no text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .contract import schema

MAX_TEXT_BYTES = 1_000_000
TITLE_MAX: int = schema("Metadata")["properties"]["title"]["maxLength"]
_ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


@dataclass(frozen=True)
class NotebookText:
    text: str  # markdown and code sources, cell after cell, at most MAX_TEXT_BYTES of UTF-8
    heading: str | None  # the first markdown heading, None when there is none


def notebook_text(raw: bytes | bytearray | str) -> NotebookText:
    """The searchable text and first heading of a notebook's JSON (empty for a non-notebook)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return NotebookText("", None)
    return text_of(data)


def text_of(data: Any) -> NotebookText:
    """``notebook_text`` of a notebook already parsed (the submission's, before it is dropped)."""
    if not isinstance(data, dict):
        return NotebookText("", None)
    pieces: list[str] = []
    size = 0
    heading = None
    for kind, source in _sources(data):
        if heading is None and kind in ("markdown", "heading"):
            heading = _heading(source) if kind == "markdown" else _one_line(source)
        if size < MAX_TEXT_BYTES and source.strip():
            pieces.append(source)
            size += len(source) + 2  # characters; each is at least one byte of UTF-8
        if size >= MAX_TEXT_BYTES and heading is not None:
            break
    return NotebookText(_capped("\n\n".join(pieces)), heading)


def _sources(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(cell type, source) of each markdown, code or heading cell, in order (nbformat 3 or 4)."""
    cells = data.get("cells")
    if cells is None:  # nbformat 3
        worksheets = data.get("worksheets")
        cells = [
            c
            for w in (worksheets if isinstance(worksheets, list) else [])
            if isinstance(w, dict)
            for c in (w.get("cells") or [])
        ]
    if not isinstance(cells, list):
        return
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        if kind not in ("markdown", "code", "heading"):
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str):
            yield kind, source


def _heading(markdown: str) -> str | None:
    """The first ATX (``# Title``) or setext (``Title`` over ``===``) heading of a cell."""
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        atx = _ATX.match(line)
        if atx:
            return _one_line(atx.group(1))
        if line.strip() and i + 1 < len(lines) and _SETEXT.match(lines[i + 1]):
            return _one_line(line)
    return None


def _one_line(text: str) -> str | None:
    line = " ".join(text.split())[:TITLE_MAX].strip()
    return line or None


def _capped(text: str) -> str:
    """At most MAX_TEXT_BYTES of UTF-8, cut at a character; lone surrogates become '?'."""
    return text.encode("utf-8", "replace")[:MAX_TEXT_BYTES].decode("utf-8", "ignore")
