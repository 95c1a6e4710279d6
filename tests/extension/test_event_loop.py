"""The Jupyter server's event loop stays free while a big notebook is submitted or opened as a copy.

Two witnesses, while the extension submits a ~28 MB notebook or opens one as a copy:

- a coroutine on the server's loop (pytest-jupyter runs the server in the test's loop) asks to wake
  every 10 ms and records how late it wakes: any step that holds the loop, or the GIL, for long (a
  ``json.loads`` or ``json.dumps`` of the whole notebook, even in a worker thread) shows as a
  stall. 0.2 s is generous for a loaded 2-core machine; the old code stalled 0.3-0.6 s there, but
  on a fast idle machine a whole-notebook step can take less than 0.2 s, so
- a spy on the json module records the largest text one C call parsed or wrote (the C parser and
  encoder hold the GIL throughout): at most 2 MB, one image or one printed log, not the notebook.
  Deterministic: the old code's largest was the whole answer of the service (28 MB).

The notebook holds what big notebooks hold: images, long printed logs and plotted numbers (JSON
figures, the slowest kind for a JSON parser and encoder).

Also: the piecewise JSON of ``notebookjson`` gives exactly what ``json.loads``/``json.dumps`` give.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nbformat
import pytest
from evnhelpers import TEST_KEY, body_of, browser_login, post
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyterlab_evn_submit import notebookjson
from jupyterlab_evn_submit import prepare as prep

MAX_STALL = 0.2
TICK = 0.01
MAX_JSON_CALL = 2_000_000


# --- a ~30 MB notebook ----------------------------------------------------------------------


def _figure(rng: random.Random, points: int) -> dict[str, Any]:
    xs = [round(rng.random() * 100, 6) for _ in range(points)]
    ys = [rng.gauss(0, 1) for _ in range(points)]
    return {"data": [{"type": "scatter", "x": xs, "y": ys}], "layout": {"title": "fringe"}}


def heavy_notebook(units: int = 13, figures: int = 2) -> Any:
    """``units`` times (a 1 MB image, a 1 MB printed log, ``figures`` JSON figures of 0.1 MB)."""
    rng = random.Random(7)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    count = 0

    def cell(output: Any) -> None:
        nonlocal count
        count += 1
        code = nbformat.v4.new_code_cell(f"step({count})", execution_count=count)
        code.outputs = [output]
        nb.cells.append(code)

    for _ in range(units):
        png = base64.b64encode(os.urandom(750_000)).decode()
        cell(nbformat.v4.new_output("display_data", data={"image/png": png}))
        log = "".join(f"{i:8d} {rng.getrandbits(80):020x} {i * 0.5:.3f}\n" for i in range(25_000))
        cell(nbformat.v4.new_output("stream", name="stdout", text=log))
        for _ in range(figures):
            data = {"application/vnd.plotly.v1+json": _figure(rng, 2_500), "text/plain": "<Figure>"}
            cell(nbformat.v4.new_output("display_data", data=data))
    return nb


@pytest.fixture(scope="module")
def heavy() -> Any:
    return heavy_notebook()


# --- how late the loop wakes ----------------------------------------------------------------


class LoopLag:
    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self.running = True

    async def watch(self) -> None:
        while self.running:
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            self.worst = max(self.worst, time.perf_counter() - start - TICK)
            self.ticks += 1


class JsonCalls:
    """Spies on the json module (nothing changed): the largest text one call of the C parser
    (``raw_decode``, under ``json.loads``) or the C encoder (``encode`` without ``indent``, under
    ``json.dumps``; with ``indent`` the encoder is Python code and lets go of the GIL) handled."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.largest = 0
        decode, encode = json.JSONDecoder.raw_decode, json.JSONEncoder.encode

        def raw_decode(decoder: json.JSONDecoder, s: str, idx: int = 0) -> tuple[Any, int]:
            value, end = decode(decoder, s, idx)
            self.largest = max(self.largest, end - idx)
            return value, end

        def encode_spied(encoder: json.JSONEncoder, o: Any) -> str:
            text = encode(encoder, o)
            if encoder.indent is None:
                self.largest = max(self.largest, len(text))
            return text

        monkeypatch.setattr(json.JSONDecoder, "raw_decode", raw_decode)
        monkeypatch.setattr(json.JSONEncoder, "encode", encode_spied)


@asynccontextmanager
async def watched(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[LoopLag, JsonCalls]]:
    lag, calls = LoopLag(), JsonCalls(monkeypatch)
    task = asyncio.create_task(lag.watch())
    await asyncio.sleep(0)
    try:
        yield lag, calls
    finally:
        lag.running = False
        await task
        monkeypatch.undo()


def assert_free(seen: tuple[LoopLag, JsonCalls], what: str) -> None:
    lag, calls = seen
    print(
        f"\n{what}: worst stall {lag.worst * 1000:.0f} ms over {lag.ticks} ticks, largest JSON "
        f"call {calls.largest / 1e6:.1f} MB"
    )
    assert lag.ticks >= 10, f"the watcher hardly ran ({lag.ticks} ticks): nothing was measured"
    assert calls.largest <= MAX_JSON_CALL, (
        f"one JSON call handled {calls.largest / 1e6:.1f} MB (holding the GIL) while {what}"
    )
    assert lag.worst < MAX_STALL, (
        f"the server's event loop stalled {lag.worst * 1000:.0f} ms while {what}"
    )


# --- the service at the wire: an archived notebook, encoded beforehand ------------------------


class ArchivedNotebook:
    """Serves one notebook as ``GET /api/v1/experiments/EG078B/notebooks/demo/big`` from bytes
    encoded beforehand (encoding it per request, in this process, would itself stall the loop)."""

    path = "/api/v1/experiments/EG078B/notebooks/demo/big"

    def __init__(self, nb: Any) -> None:
        answer = {"experiment": "EG078B", "owner": "demo", "name": "big", "version": 3}
        data = json.dumps(answer | {"notebook": nb}).encode()
        path = self.path

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = self.path.split("?")[0] == path
                body = data if ok else b'{"message": "no such notebook"}'
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.size = len(data)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def archived(heavy: Any) -> Iterator[ArchivedNotebook]:
    service = ArchivedNotebook(heavy)
    yield service
    service.close()


@pytest.fixture
def evn_config(evn_config: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    if "stack" in request.keywords:
        stack = request.getfixturevalue("stack")
        return evn_config | {
            "issuer_url": stack["EVN_ISSUER_URL"],
            "client_id": stack["EVN_CLIENT_ID"],
            "service_url": stack["EVN_SERVICE_URL"],
            "token_keys": [TEST_KEY],
            "http_timeout": 120.0,
        }
    return evn_config | {"service_url": request.getfixturevalue("archived").url}


def same_notebook(path: Path, nb: Any) -> None:
    copy = nbformat.read(path, as_version=4)
    assert len(copy.cells) == len(nb.cells)
    assert copy.cells[-1].outputs == nb.cells[-1].outputs
    assert copy.cells[1].outputs[0].text == nb.cells[1].outputs[0].text


async def test_opening_a_big_copy_keeps_the_loop_free(
    jp_fetch, jp_root_dir, archived, heavy, monkeypatch
):
    assert archived.size > 25_000_000
    ask = {"experiment": "EG078B", "owner": "demo", "name": "big"}
    async with watched(monkeypatch) as seen:
        r = await post(jp_fetch, "open-copy", body=ask)
    assert r.code == 200, r.body
    assert body_of(r)["path"] == "evn-archive/EG078B/big-v3.ipynb"
    assert_free(seen, f"it opened a copy of a {archived.size / 1e6:.0f} MB notebook")
    same_notebook(jp_root_dir / "evn-archive/EG078B/big-v3.ipynb", heavy)


@pytest.mark.stack
async def test_submitting_and_opening_a_big_notebook_keeps_the_loop_free(
    jp_fetch, jp_root_dir, stack, heavy, monkeypatch
):
    await browser_login(jp_fetch, stack)
    (jp_root_dir / "big.ipynb").write_text(nbformat.writes(heavy))
    experiment = f"T{secrets.randbelow(10_000):04d}{secrets.token_hex(2).upper()}"
    ask = {
        "path": "big.ipynb",
        "experiment": experiment,
        "name": "big",
        "metadata": {
            "title": "A big notebook",
            "description": "Images, logs and figures.",
            "authors": [{"name": "Demo Researcher"}],
            "license": "CC-BY-4.0",
            "keywords": [],
        },
        "output_policy": "keep",
    }
    async with watched(monkeypatch) as seen:
        r = await post(jp_fetch, "submit", body=ask)
    assert r.code == 201, r.body
    assert_free(seen, "it submitted a ~30 MB notebook")

    ask = {"experiment": experiment, "owner": stack["EVN_DEMO_USER"], "name": "big"}
    async with watched(monkeypatch) as seen:
        r = await post(jp_fetch, "open-copy", body=ask)
    assert r.code == 200, r.body
    assert_free(seen, "it opened a copy of a ~30 MB notebook")
    same_notebook(jp_root_dir / body_of(r)["path"], heavy)


# --- piecewise JSON: the same values, bytes and errors as the json module --------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
cells = st.fixed_dictionaries(
    {
        "cell_type": st.just("code"),
        "outputs": st.lists(values | st.fixed_dictionaries({"data": values}), max_size=3),
    },
    optional={"attachments": st.dictionaries(st.text(max_size=5), values, max_size=2)},
)
notebooks = (
    st.fixed_dictionaries({"cells": st.lists(cells | values, max_size=4), "metadata": values})
    | values
)


@contextmanager
def slice_everything() -> Iterator[None]:
    """Small texts too are read by the walker (not the one ``json.loads`` call below 1 MiB)."""
    before, notebookjson.SLICE_FROM = notebookjson.SLICE_FROM, 0
    try:
        yield
    finally:
        notebookjson.SLICE_FROM = before


@settings(max_examples=300, deadline=None)
@given(notebooks, st.sampled_from([None, 1, " ", "\n\t"]))
def test_sliced_reading_gives_what_json_loads_gives(nb, indent):
    text = json.dumps(nb, indent=indent)
    answer = json.dumps({"version": 1, "notebook": nb}, indent=indent)
    with slice_everything():
        assert _same(notebookjson.loads(text), json.loads(text))
        assert _same(notebookjson.loads(answer, notebookjson.AnswerDecoder), json.loads(answer))


@settings(max_examples=300, deadline=None)
@given(notebooks)
def test_piecewise_writing_gives_what_json_dumps_gives(nb):
    compact = json.dumps(nb, ensure_ascii=False, separators=(",", ":")).encode()
    assert notebookjson.dumps_utf8(nb, notebookjson.NOTEBOOK) == compact


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet='{}[]",: \n0123456789.eEtrufalsn\\', max_size=40) | notebooks.map(json.dumps)
)
def test_bad_json_fails_as_json_loads_fails(text):
    text = text[: len(text) // 2 + 1]
    try:
        expected: Any = json.loads(text)
    except ValueError as e:
        expected = e
    try:
        with slice_everything():
            got: Any = notebookjson.loads(text)
    except ValueError as e:
        got = e
    if isinstance(expected, ValueError):
        assert type(got) is type(expected) and str(got) == str(expected)
    else:
        assert _same(got, expected)


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN included (NaN != NaN)."""
    return json.dumps(a) == json.dumps(b)


def test_a_big_text_is_read_in_pieces(heavy):
    """Above ``SLICE_FROM`` the walker reads it (a wrong plan would still give the right value:
    this checks the walk itself ran, and the result)."""
    text = nbformat.writes(heavy)
    assert len(text) > notebookjson.SLICE_FROM
    calls: list[int] = []

    class Counting(notebookjson.NotebookDecoder):
        def raw_decode(self, s: str, idx: int = 0) -> tuple[Any, int]:
            calls.append(idx)
            return super().raw_decode(s, idx)

    assert json.loads(text, cls=Counting) == json.loads(text)
    assert len(calls) > len(heavy.cells) * 3


def test_a_notebook_from_the_service_is_read_as_parse_notebook_reads_it(heavy):
    value = json.loads(nbformat.writes(heavy))
    assert prep.notebook_from_value(value) == prep.parse_notebook(json.dumps(value))
    bad: Any
    for bad in (None, [], {"cells": 3}, {"nbformat": 4, "nbformat_minor": 5, "cells": [{}]}):
        with pytest.raises(prep.InvalidNotebook) as fast:
            prep.notebook_from_value(bad)
        with pytest.raises(prep.InvalidNotebook) as slow:
            prep.parse_notebook(json.dumps(bad))
        assert fast.value.message == slow.value.message
