"""What the index searches in a notebook: cell sources without outputs, the first heading."""

from __future__ import annotations

import base64
import json
from typing import Any

from evn_notebook_service.notebooktext import MAX_TEXT_BYTES, notebook_text


def _nb(*cells: dict[str, Any]) -> bytes:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4}).encode()


def md(source: Any) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def code(source: Any, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": outputs or []}


def test_markdown_and_code_sources_in_order_without_outputs() -> None:
    out = {"output_type": "stream", "name": "stdout", "text": "OUTPUT-ONLY-WORD"}
    raw = _nb(md(["Fringe ", "fitting\n"]), code("fringefit(vis)", [out]),
              {"cell_type": "raw", "metadata": {}, "source": "RAW-CELL"})  # fmt: skip
    text = notebook_text(raw).text
    assert text == "Fringe fitting\n\n\nfringefit(vis)"
    assert "OUTPUT-ONLY-WORD" not in text and "RAW-CELL" not in text


def test_first_heading_atx_or_setext_of_a_markdown_cell() -> None:
    assert notebook_text(
        _nb(code("# a comment"), md("intro\n## Bandpass  ##\n# Later"))
    ).heading == ("Bandpass")
    assert notebook_text(_nb(md("Calibration of EG078B\n===\n"))).heading == "Calibration of EG078B"
    assert notebook_text(_nb(md("no heading here"), code("x = 1"))).heading is None
    assert notebook_text(_nb(md("#hashtag is not a heading"))).heading is None


def test_nbformat3_worksheets_and_heading_cells() -> None:
    raw = json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "heading", "level": 1, "source": ["Old  portal\n", "notebook"]},
        {"cell_type": "code", "input": "tasav(vis='x')", "outputs": []},
    ]}]}).encode()  # fmt: skip
    found = notebook_text(raw)
    assert found.heading == "Old portal notebook"
    assert "tasav(vis='x')" in found.text


def test_not_a_notebook_has_no_text() -> None:
    for raw in (b"", b"not json", b"[1, 2]", b'{"cells": "nope"}', b"\xff\xfe"):
        assert notebook_text(raw).text == ""
        assert notebook_text(raw).heading is None


def test_text_is_capped_at_one_megabyte_of_utf8_cut_at_a_character() -> None:
    raw = _nb(*[md("# Big\n" + "é" * 300_000) for _ in range(5)])
    found = notebook_text(raw)
    assert found.heading == "Big"
    size = len(found.text.encode("utf-8"))
    assert MAX_TEXT_BYTES - 2 < size <= MAX_TEXT_BYTES
    assert found.text.endswith("é")


def test_lone_surrogates_do_not_break_the_text() -> None:
    found = notebook_text(b'{"cells": [{"cell_type": "code", "source": "x = \'\\ud800\'"}]}')
    found.text.encode("utf-8")  # storable


def test_a_50_mb_notebook_keeps_only_its_sources() -> None:
    image = base64.b64encode(bytes(750_000)).decode()
    output = {"output_type": "display_data", "data": {"image/png": image}, "metadata": {}}
    raw = _nb(md("# Plots"), *[code(f"plot({i})", [output]) for i in range(50)])
    assert len(raw) > 50_000_000
    found = notebook_text(raw)
    assert found.heading == "Plots" and "plot(49)" in found.text
    assert len(found.text) < 1000  # the outputs' 50 MB are not text


def test_the_submissions_text_is_the_stored_notebooks() -> None:
    """The write-through indexes the text taken from the parse, not a re-parse of the stored
    bytes: both must give the same row, or search would differ after a reindex."""
    from evn_notebook_service.submission import parse_submission

    nb = {
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# Bandpass\nfringe"},
            {"cell_type": "code", "id": "b", "metadata": {}, "source": ["x = 1\n", "y"],
             "outputs": [], "execution_count": None},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    meta = {"title": "T", "description": "d", "authors": [{"name": "A"}], "license": "MIT"}
    body = bytearray(json.dumps({"notebook": nb, "metadata": meta}).encode())
    sub = parse_submission([body], 10**6)
    assert sub.text == notebook_text(sub.notebook)
    assert sub.text is not None and sub.text.heading == "Bandpass"
