"""JSON of notebooks read and written a piece at a time, so a big one never holds the GIL long.

``json.loads`` and ``json.dumps`` are single C calls: they hold the GIL from the first byte to the
last (``json.dumps`` of a 50 MB notebook takes 0.2-0.4 s, of 10 MB of plotted numbers 0.8 s), so
even in a worker thread they stall the Jupyter server's event loop for that long. Here the
notebook's own structure (the cells, each cell, its outputs, each output, its MIME bundle, the
attachments, the widget state) is walked in Python and only the values inside it (one image, one
figure, one cell's source) go to the C parser or encoder, so the GIL changes hands between them.

The results are exactly those of ``json.loads`` and of ``json.dumps(value, ensure_ascii=False,
separators=(",", ":"))``; a document that is not valid JSON is handed to ``json.loads`` itself, so
its error (type, message, position) is unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

#: Which members are read piece by piece: a key maps to the plan of its value (``"*"``: every
#: member or element); a value without a plan is one piece.
Plan = dict[str, Any]
_MIME_BUNDLE: Plan = {"*": None}
NOTEBOOK: Plan = {
    "cells": {
        "*": {
            "outputs": {"*": {"data": _MIME_BUNDLE}},
            "attachments": {"*": _MIME_BUNDLE},
        }
    },
    "metadata": {"widgets": {"*": {"state": {"*": None}}}},
}
#: A cell alone, as ``NOTEBOOK["cells"]["*"]``.
CELL: Plan = NOTEBOOK["cells"]["*"]
#: An answer of the notebook service that carries a notebook (``GET …/notebooks/{owner}/{name}``).
ANSWER: Plan = {"notebook": NOTEBOOK}
#: Below this many characters the C parser's one call is short enough (a few ms).
SLICE_FROM = 1 << 20

_WS = re.compile(r"[ \t\n\r]*")


def _skip(s: str, i: int, _match: Callable[[str, int], Any] = _WS.match) -> int:
    """The index of the first character at or after ``i`` that is not JSON whitespace."""
    return int(_match(s, i).end())


class _Invalid(Exception):
    """Not JSON the walker reads: ``json.loads`` says why."""


class SlicedDecoder(json.JSONDecoder):
    """``json.loads(text, cls=NotebookDecoder)``: the same value, read a piece at a time."""

    plan: Plan = NOTEBOOK

    def decode(self, s: str, _w: Any = None) -> Any:
        if len(s) < SLICE_FROM:
            return super().decode(s)
        try:
            value, end = self._value(s, _skip(s, 0), self.plan)
            if _skip(s, end) != len(s):
                raise _Invalid
        except (_Invalid, ValueError, IndexError):
            return super().decode(s)  # raises the error json.loads raises
        return value

    def _value(self, s: str, i: int, plan: Plan | None) -> tuple[Any, int]:
        if plan is not None:
            if s[i] == "{":
                return self._object(s, i + 1, plan)
            if s[i] == "[" and "*" in plan:
                return self._array(s, i + 1, plan["*"])
        return self.raw_decode(s, i)

    def _object(self, s: str, i: int, plan: Plan) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        i = _skip(s, i)
        if s[i] == "}":
            return out, i + 1
        while True:
            if s[i] != '"':
                raise _Invalid
            key, i = scanstring(s, i + 1, self.strict)
            i = _skip(s, i)
            if s[i] != ":":
                raise _Invalid
            i = _skip(s, i + 1)
            out[key], i = self._value(s, i, plan.get(key, plan.get("*")))
            i = _skip(s, i)
            if s[i] == "}":
                return out, i + 1
            if s[i] != ",":
                raise _Invalid
            i = _skip(s, i + 1)

    def _array(self, s: str, i: int, plan: Plan | None) -> tuple[list[Any], int]:
        out: list[Any] = []
        i = _skip(s, i)
        if s[i] == "]":
            return out, i + 1
        while True:
            item, i = self._value(s, i, plan)
            out.append(item)
            i = _skip(s, i)
            if s[i] == "]":
                return out, i + 1
            if s[i] != ",":
                raise _Invalid
            i = _skip(s, i + 1)


class NotebookDecoder(SlicedDecoder):
    plan = NOTEBOOK


class AnswerDecoder(SlicedDecoder):
    plan = ANSWER


def loads(text: str | bytes, decoder: type[SlicedDecoder] = NotebookDecoder) -> Any:
    """``json.loads(text)``, a piece at a time (errors: those of ``json.loads``)."""
    return json.loads(text, cls=decoder)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def pieces(value: Any, plan: Plan | None, dump: Callable[[Any], str] = _compact) -> Iterator[str]:
    """The JSON of ``value`` as ``dump`` writes it (compact separators), in pieces: ``"".join``
    of them is ``dump(value)``, and no piece is bigger than one unplanned value."""
    if plan is not None and isinstance(value, dict) and all(type(k) is str for k in value):
        yield "{"
        for n, (key, item) in enumerate(value.items()):
            yield ("," if n else "") + dump(key) + ":"
            yield from pieces(item, plan.get(key, plan.get("*")), dump)
        yield "}"
    elif plan is not None and "*" in plan and isinstance(value, list | tuple):
        yield "["
        for n, item in enumerate(value):
            if n:
                yield ","
            yield from pieces(item, plan["*"], dump)
        yield "]"
    else:
        yield dump(value)


def dumps_utf8(value: Any, plan: Plan | None) -> bytes:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()``, in pieces."""
    return b"".join(piece.encode("utf-8") for piece in pieces(value, plan))


def utf8_size(text: str | bytes, step: int = SLICE_FROM) -> int:
    """``len(text.encode("utf-8"))`` without a copy of the whole text."""
    if isinstance(text, bytes | bytearray):
        return len(text)
    if text.isascii():
        return len(text)
    return sum(len(text[i : i + step].encode("utf-8")) for i in range(0, len(text), step))
