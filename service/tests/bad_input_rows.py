"""The rows of test_bad_inputs.py: one bad request each, and the answer the contract promises.

A row is (id, method, path, body, headers, expected) where ``path`` is raw (already
percent-encoded, sent byte for byte), ``body`` is bytes, ``headers`` are added to the defaults of
its kind, and ``expected`` is a status or "4xx". ``{code}`` in a path is the table's existing
experiment, ``{fresh}`` an experiment that must not come into being, ``{name}`` the demo
researcher's notebook in it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from svc_api import body, notebook

SUBMIT = "/api/v1/experiments/{code}/notebooks"
FRESH = "/api/v1/experiments/{fresh}/notebooks"
VERSIONS = "/api/v1/experiments/{code}/notebooks/demo/{name}/versions"
READ = "/api/v1/experiments/{code}/notebooks/demo/{name}"
SEARCH = "/api/v1/notebooks"
ME = "/api/v1/me/submissions"
HOOK = "/api/v1/hooks/gitea"

Row = tuple[str, str, str, bytes, dict[str, str], "int | str"]


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def good() -> bytes:
    return dumps(body())


def with_(path: str, value: Any) -> bytes:
    """The good body with one field (dotted path; digits index lists) set, or deleted (...)."""
    data = copy.deepcopy(body())
    *parents, last = path.split(".")
    target: Any = data
    for p in parents:
        target = target[int(p)] if p.isdigit() else target[p]
    if value is ...:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return dumps(data)


def spliced(path: str, raw: str) -> bytes:
    """The good body with one field's JSON text replaced by ``raw`` (NaN, escapes, nesting)."""
    marker = "__SPLICE__"
    return with_(path, marker).replace(f'"{marker}"'.encode(), raw.encode())


def nb(**over: Any) -> dict[str, Any]:
    data = notebook()
    data.update(over)
    return data


def _tokens() -> list[Row]:
    r = [
        ("no Authorization", {"Authorization": ""}),
        ("empty bearer", {"Authorization": "Bearer "}),
        ("basic scheme", {"Authorization": "Basic ZGVtbzpkZW1v"}),
        ("not a JWT", {"Authorization": "Bearer not.a.jwt"}),
        ("two parts", {"Authorization": "Bearer abc.def"}),
        ("JWT of garbage", {"Authorization": "Bearer e30.e30.e30"}),
        ("bearer twice", {"Authorization": "Bearer a Bearer b"}),
    ]
    rows: list[Row] = [(f"token: {i}", "POST", SUBMIT, good(), h, 401) for i, h in r]
    rows.append(("token: none on me/submissions", "GET", ME, b"", {"Authorization": ""}, 401))
    rows.append(("token: garbage on me/submissions", "GET", ME, b"", r[3][1], 401))
    return rows


def _headers() -> list[Row]:
    h: list[tuple[str, dict[str, str], int | str]] = [
        ("no Content-Type", {"Content-Type": ""}, 415),
        ("text/plain", {"Content-Type": "text/plain"}, 415),
        ("form", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("multipart", {"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ("json-patch", {"Content-Type": "application/json-patch+json"}, 415),
        ("no Idempotency-Key", {"Idempotency-Key": ""}, 400),
        ("short Idempotency-Key", {"Idempotency-Key": "abc"}, 400),
        ("Idempotency-Key with a space", {"Idempotency-Key": "abc defgh ijk"}, 400),
        ("Idempotency-Key of 201", {"Idempotency-Key": "k" * 201}, 400),
        ("Content-Length abc", {"Content-Length": "abc"}, 400),
        ("Content-Length -1", {"Content-Length": "-1"}, 400),
        ("Content-Length 1e3", {"Content-Length": "1e3"}, 400),
        ("Content-Length twice", {"Content-Length": "2, 2"}, 400),
        ("Content-Length and chunked", {"Transfer-Encoding": "chunked"}, 400),
    ]
    return [(f"header: {i}", "POST", SUBMIT, good(), hd, s) for i, hd, s in h]


def _bodies() -> list[Row]:
    b: list[tuple[str, bytes]] = [
        ("empty", b""),
        ("white space", b"  \n "),
        ("not JSON", b"{"),
        ("trailing garbage", good() + b"x"),
        ("UTF-16", json.dumps(body()).encode("utf-16")),
        ("UTF-8 BOM", b"\xef\xbb\xbf" + good()),
        ("Latin-1 byte", with_("metadata.title", "caf\u00e9").replace(b"\\u00e9", b"\xe9")),
        ("raw UTF-8 surrogate", with_("metadata.title", "x").replace(b'"x"', b'"\xed\xa0\x80"')),
        ("NaN", spliced("provenance", '{"x": NaN}')),
        ("Infinity", spliced("provenance", '{"x": -Infinity}')),
        ("huge number", spliced("provenance", '{"x": 1e999}')),
        ("nested 50,000", b"[" * 50000 + b"]" * 50000),
        ("notebook nested 20,000", spliced("notebook", "[" * 20000 + "]" * 20000)),
        ("provenance nested 65", spliced("provenance", '{"a":' * 65 + "1" + "}" * 65)),
        ("cell nested 70", spliced("notebook.cells.0.metadata", '{"a":' * 70 + "1" + "}" * 70)),
        ("surrogate in a cell", spliced("notebook.cells.0.source", '"\\ud800"')),
        ("surrogate in the title", spliced("metadata.title", '"a\\udfff"')),
        ("surrogate in provenance", spliced("provenance", '{"k": "\\udbff"}')),
        ("surrogate in message", spliced("message", '"\\ud83d"')),
        ("surrogate in a key", spliced("provenance", '{"\\ud800": 1}')),
        ("surrogate in an author", spliced("metadata.authors.0.name", '"\\udc00x"')),
        ("array", b"[]"),
        ("string", b'"notebook"'),
        ("null", b"null"),
        ("number", b"42"),
        ("unknown field", with_("extra", 1)),
        ("missing notebook", with_("notebook", ...)),
        ("missing metadata", with_("metadata", ...)),
        ("notebook a list", with_("notebook", [])),
        ("notebook a string", with_("notebook", "{}")),
        ("nbformat 3", with_("notebook", nb(nbformat=3))),
        ("nbformat missing", with_("notebook", {"cells": [], "metadata": {}})),
        ("no cells", with_("notebook", nb(cells=[]))),
        ("invalid cell type", with_("notebook.cells.0.cell_type", "foo")),
        ("cell without source", with_("notebook.cells.0.source", ...)),
        ("cells not a list", with_("notebook", nb(cells={}))),
        ("title 201", with_("metadata.title", "t" * 201)),
        ("title empty", with_("metadata.title", "")),
        ("title blank", with_("metadata.title", "   ")),
        ("title control char", with_("metadata.title", "a\u0007b")),
        ("title a number", with_("metadata.title", 5)),
        ("description 10,001", with_("metadata.description", "d" * 10001)),
        ("51 keywords", with_("metadata.keywords", ["k"] * 51)),
        ("keyword 101", with_("metadata.keywords", ["k" * 101])),
        ("keywords a string", with_("metadata.keywords", "evn")),
        ("ORCID check digit", with_("metadata.authors.0.orcid", "0000-0002-1825-0098")),
        ("ORCID garbage", with_("metadata.authors.0.orcid", "orcid")),
        ("unknown licence", with_("metadata.license", "WTFPL")),
        ("no authors", with_("metadata.authors", [])),
        ("author unknown field", with_("metadata.authors.0.email", "a@b.c")),
        ("metadata unknown field", with_("metadata.doi", "10.1/x")),
        ("message 2,001", with_("message", "m" * 2001)),
        ("provenance a list", with_("provenance", [1])),
        ("provenance over 1 MiB", with_("provenance", {"x": "p" * (1 << 20)})),
        ("name trailing dot", with_("name", "calib.")),
        ("name CON", with_("name", "CON")),
        ("name con.ipynb", with_("name", "con.ipynb")),
        ("name lpt1.txt", with_("name", "lpt1.txt")),
        ("name ..", with_("name", "a..b")),
        ("name slash", with_("name", "a/b")),
        ("name backslash", with_("name", "a\\b")),
        ("name non-ASCII", with_("name", "caf\u00e9")),
        ("name 81", with_("name", "n" * 81)),
        ("name .git", with_("name", "x.git")),
        ("name a number", with_("name", 7)),
        ("name leading dot", with_("name", ".hidden")),
        ("title gives no name", with_("metadata.title", "\u65e5\u672c\u8a9e")),
    ]
    # alternately into the existing experiment and into one that must not come into being
    return [
        (f"body: {i}", "POST", (SUBMIT, FRESH)[n % 2], data, {}, "4xx" if "1 MiB" in i else 400)
        for n, (i, data) in enumerate(b)
    ]


ODD_CODES = {
    "sharp s": "EG07%C3%9F",
    "long s": "EG%C5%BF78B",
    "Kelvin sign": "%E2%84%AA078B",
    "line feed": "EG078B%0A",
    "NUL": "EG078B%00",
    "0xFF": "EG078B%FF",
    "space": "EG%20078B",
    "33 characters": "E" + "0" * 32,
    "fullwidth": "%EF%BC%A5G078B",
    "dot dot": "..",
}


def _paths() -> list[Row]:
    rows: list[Row] = [
        (f"code: {i} (submit)", "POST", f"/api/v1/experiments/{c}/notebooks", good(), {}, 400)
        for i, c in ODD_CODES.items()
    ]
    rows += [
        (f"code: {i} (read)", "GET", f"/api/v1/experiments/{c}/notebooks", b"", {}, 400)
        for i, c in list(ODD_CODES.items())[:4]
    ]
    segments: list[tuple[str, str, str, int | str]] = [
        ("name CON", "demo", "CON", 400),
        ("name ..", "demo", "a..b", 400),
        ("name %2e%2e", "demo", "%2e%2e", "4xx"),
        ("name sharp s", "demo", "ca%C3%9F", 400),
        ("name 0xFF", "demo", "a%FF", 400),
        ("name NUL", "demo", "a%00b", 400),
        ("name 200", "demo", "n" * 200, 400),
        ("owner upper case", "DEMO", "x", 400),
        ("owner ..", "a..b", "x", 400),
        ("owner NUL", "de%00mo", "x", 400),
    ]
    for i, owner, name, status in segments:
        path = f"/api/v1/experiments/{{code}}/notebooks/{owner}/{name}"
        rows.append((f"path: {i} (read)", "GET", path, b"", {}, status))
        rows.append((f"path: {i} (new version)", "POST", path + "/versions", good(), {}, status))
    rows += [
        ("path: owner _legacy", "POST", VERSIONS.replace("demo", "_legacy"), good(), {}, 403),
        ("path: another's folder", "POST", VERSIONS.replace("demo", "researcher2"), good(), {},
         "4xx"),
        ("path: missing notebook", "POST", VERSIONS.replace("{name}", "no-such-nb"), good(), {},
         404),
        ("path: name differs from the body", "POST", VERSIONS, with_("name", "other"), {}, 400),
    ]  # fmt: skip
    return rows


def _queries() -> list[Row]:
    q: list[tuple[str, str, str]] = [
        ("version superscript two", READ, "version=%C2%B2"),
        ("version 10,000 digits", READ, "version=" + "9" * 10000),
        ("version 10 digits", READ, "version=1234567890"),
        ("version 0", READ, "version=0"),
        ("version -1", READ, "version=-1"),
        ("version 1.0", READ, "version=1.0"),
        ("version with a space", READ, "version=%201"),
        ("version Arabic-Indic one", READ, "version=%D9%A1"),
        ("version empty", READ, "version="),
        ("limit 0", VERSIONS, "limit=0"),
        ("limit 101", VERSIONS, "limit=101"),
        ("limit abc", VERSIONS, "limit=abc"),
        ("limit 1e2", SEARCH, "limit=1e2"),
        ("limit -1 (me)", ME, "limit=-1"),
        ("cursor garbage", VERSIONS, "cursor=%21%21"),
        ("cursor not ours", SUBMIT, "cursor=AAAAAAAA"),
        ("cursor 2001", SEARCH, "cursor=" + "A" * 2001),
        ("cursor NUL", ME, "cursor=%00"),
        ("since after until", SEARCH, "since=2026-02-01&until=2026-01-01"),
        ("since impossible date", SEARCH, "since=2026-02-30"),
        ("since garbage", SEARCH, "since=yesterday"),
        ("until 41 characters", SEARCH, "until=" + "2" * 41),
        ("sort unknown", SEARCH, "sort=random"),
        ("q control char", SEARCH, "q=a%01b"),
        ("q vertical tab", SEARCH, "q=a%0Bb"),
        ("q 10 KB", SEARCH, "q=" + "w" * 10240),
        ("licence unknown", SEARCH, "license=WTFPL"),
        ("ORCID check digit", SEARCH, "orcid=0000-0002-1825-0098"),
        ("experiment sharp s", SEARCH, "experiment=EG07%C3%9F"),
        ("author 201", SEARCH, "author=" + "a" * 201),
        ("keyword 101", SEARCH, "keyword=" + "k" * 101),
    ]
    return [(f"query: {i}", "GET", f"{p}?{s}", b"", {}, 400) for i, p, s in q]


def _methods() -> list[Row]:
    return [
        ("method: GET health with a body", "GET", "/api/v1/health", b"12345", {}, 400),
        ("method: GET search with a body", "GET", SEARCH, b"{}", {}, 400),
        ("method: POST health", "POST", "/api/v1/health", b"", {}, 405),
        ("method: DELETE openapi", "DELETE", "/api/v1/openapi.json", b"", {}, 405),
        ("method: PUT notebooks", "PUT", SUBMIT, good(), {}, 405),
        ("method: PATCH search", "PATCH", SEARCH, b"", {}, 405),
        ("method: DELETE a notebook", "DELETE", READ, b"", {}, 405),
        ("method: POST a notebook", "POST", READ, good(), {}, 405),
        ("method: GET the webhook", "GET", HOOK, b"", {}, 405),
        ("method: unknown route", "GET", "/api/v1/nope", b"", {}, 404),
        ("method: API v2", "GET", "/api/v2/health", b"", {}, 404),
        ("method: trailing slash", "GET", "/api/v1/health/", b"", {}, 404),
    ]


def rows() -> list[Row]:
    return [*_tokens(), *_headers(), *_bodies(), *_paths(), *_queries(), *_methods()]
