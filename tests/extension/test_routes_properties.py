"""Properties of the extension's routes over arbitrary input (Hypothesis): whatever the body or
the query, the answer is never a 5xx caused by the input, and every refusal is JSON with a
``message``.

One Jupyter server serves every example: the test is async (the server runs on its event loop)
and hands the examples to a blocking Hypothesis function in a worker thread, which calls the
server over real HTTP. The service is ``FakeService`` (404 for everything: a well-formed request
gets a 4xx from it, never a 5xx); Keycloak is a closed port, so the login routes may answer 503
for a well-formed body ("cannot be reached") — the archive failing, not the input.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import anyio.to_thread
import pytest
import requests
from fakeservice import FakeService
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyterlab_evn_submit.requestbody import MAX_BODY_BYTES

# Keycloak is down here: a body these routes accept reaches it and gets the documented 503
KEYCLOAK_ROUTES = {"login", "device"}
FIELDS = {
    "submit": (
        "path",
        "experiment",
        "metadata",
        "output_policy",
        "output_budget",
        "name",
        "message",
        "idempotency_key",
    ),
    "open-copy": ("experiment", "owner", "name", "version"),
    "device/poll": ("device_id",),
    "login": (),
    "device": (),
    "logout": (),
}
QUERIES = {
    "preview": ("path", "output_policy", "output_budget"),
    "submissions": ("limit", "cursor"),
    "search": ("q", "experiment", "sort", "since", "until", "limit", "cursor"),
    "experiments/{a}/notebooks": ("limit", "cursor"),
    "experiments/{a}/notebooks/{b}/{c}/versions": ("limit", "cursor"),
    "diff": ("experiment", "owner", "name", "base", "remote"),
    "open": ("experiment", "owner", "name", "version"),
}
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# any text, lone surrogates included (json.dumps writes them as \ud800 escapes)
texts = st.text(st.characters(exclude_categories=()), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts
    | st.sampled_from(["EG078B", "demo", "calibration.ipynb", "../x.ipynb", "2", "keep"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def bodies(route: str) -> st.SearchStrategy[bytes]:
    """Bodies for ``route``: objects with its fields, any JSON value, any bytes, deep nesting."""
    fields = st.fixed_dictionaries({}, optional={f: values for f in FIELDS[route]})
    as_json = (fields | values).map(lambda v: json.dumps(v).encode())
    nested = st.integers(1, 20_000).map(lambda n: b"[" * n + b"]" * n)
    return as_json | st.binary(max_size=200) | nested


@pytest.fixture
def fake() -> Iterator[FakeService]:
    with FakeService() as service:
        yield service


@pytest.fixture
def evn_config(evn_config: dict[str, Any], fake: FakeService) -> dict[str, Any]:
    return evn_config | {"service_url": fake.url}


@pytest.fixture
def server(jp_fetch: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str) -> Any:
    """A blocking caller of the running server (for the worker thread), and its checks."""
    session = requests.Session()
    session.headers["Authorization"] = f"token {jp_serverapp.identity_provider.token}"
    root = f"http://127.0.0.1:{jp_http_port}{jp_base_url}evn-submit/"

    def call(method: str, route: str, **kw: Any) -> requests.Response:
        return session.request(method, root + route, timeout=60, allow_redirects=False, **kw)

    return call


def _judge(route: str, r: requests.Response, body: bytes | None = None) -> None:
    allowed_5xx = route in KEYCLOAK_ROUTES and r.status_code == 503
    assert r.status_code < 500 or allowed_5xx, (route, body and body[:200], r.status_code, r.text)
    if r.status_code >= 400 and route != "open":  # open answers the browser with a page
        message = r.json()["message"]
        assert isinstance(message, str) and message.strip(), r.text
    if body is not None and not _is_json_object(body):
        assert r.status_code == 400, (route, body[:200], r.status_code, r.text)


def _is_json_object(body: bytes) -> bool:
    """Our own judgement: strict UTF-8 JSON object, finite numbers, no lone surrogates."""
    if not body:
        return True  # an empty body stands for {}
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_nan)
        json.dumps(value).encode("utf-8", "strict")
        json.dumps(value, ensure_ascii=False).encode("utf-8", "strict")
    except (ValueError, RecursionError, UnicodeError):
        return False
    return isinstance(value, dict) and not body.startswith(b"\xef\xbb\xbf") and _finite(value)


def _nan(name: str) -> Any:
    raise ValueError(name)


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


async def _in_thread(check: Callable[[], None]) -> None:
    await anyio.to_thread.run_sync(check)


@pytest.mark.parametrize("route", sorted(FIELDS))
async def test_any_body_on_a_post_route_is_never_a_5xx(server, fake, route):
    @SETTINGS
    @given(body=bodies(route))
    def check(body: bytes) -> None:
        _judge(route, server("POST", route, data=body), body)

    await _in_thread(check)
    assert all(s.method == "GET" for s in fake.seen)  # only open-copy reads from the service


# values that broke the routes once ("²".isdigit() is true, int() refuses 5,000 digits)
TRICKY = ["²", "٣", "0", "-1", "101", "9" * 5000, "1e3", "EG078B", "demo", "2026-02-30", "..", ""]
query_values = st.sampled_from(TRICKY) | st.text(st.characters(codec="utf-8"))
# good values, so that the checks after the first (a version after the notebook's name) are reached
GOOD = {
    "experiment": "EG078B",
    "owner": "demo",
    "name": "calibration",
    "path": "calibration.ipynb",
    "output_policy": "keep",
    "sort": "updated",
}


def _mostly_good(name: str) -> st.SearchStrategy[str]:
    if name not in GOOD:
        return query_values
    return st.integers(0, 3).flatmap(lambda i: st.just(GOOD[name]) if i else query_values)


def queries(route: str) -> st.SearchStrategy[dict[str, str]]:
    names = QUERIES[route]
    return st.fixed_dictionaries(
        {n: _mostly_good(n) for n in names if n in GOOD},
        optional={n: query_values for n in names if n not in GOOD},
    )


segments = (st.sampled_from(TRICKY[:7]) | st.text(st.characters(codec="utf-8"))).filter(
    lambda s: s not in ("", ".", "..")
)


@pytest.mark.parametrize("route", sorted(QUERIES))
async def test_any_query_on_a_get_route_is_never_a_5xx(server, route):
    @SETTINGS
    @given(query=queries(route), a=segments, b=segments, c=segments)
    def check(query: dict[str, str], a: str, b: str, c: str) -> None:
        quoted = {k: quote(v, safe="") for k, v in {"a": a, "b": b, "c": c}.items()}
        _judge(route, server("GET", route.format(**quoted), params=query))

    await _in_thread(check)


async def test_a_body_of_the_limit_is_read_and_one_byte_more_is_not(server):
    def check() -> None:
        padding = " " * (MAX_BODY_BYTES - 2)
        r = server("POST", "open-copy", data=b"{" + padding.encode() + b"}")
        assert r.status_code == 400 and "experiment" in r.json()["message"], r.text
        r = server("POST", "open-copy", data=b"{" + padding.encode() + b" }")
        assert r.status_code == 413 and "at most" in r.json()["message"], r.text

    await _in_thread(check)
