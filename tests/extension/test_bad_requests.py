"""Bad requests to every route of the extension: each is a 4xx with a JSON message, nothing is
written under the Jupyter root, and no call reaches the notebook service or Keycloak.

The service is ``FakeService`` (real HTTP on 127.0.0.1, counting what reaches it); Keycloak is a
closed port. The raw-socket tests check what only the wire shows: a body refused from its headers
is refused before it is sent (no ``100 Continue``).
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from evnhelpers import body_of, make_notebook
from fakeservice import FakeService

from jupyterlab_evn_submit.requestbody import MAX_BODY_BYTES

DEEP = "[" * 50_000 + "]" * 50_000
DEEP_OBJECT = '{"a":' * 5_000 + "1" + "}" * 5_000
GOOD_META = {"title": "Amplitude calibration", "authors": [{"name": "A"}], "license": "CC-BY-4.0"}
POSTS = ("login", "device", "device/poll", "logout", "submit", "open-copy")


def submission(**over: Any) -> str:
    body = {"path": "calibration.ipynb", "experiment": "EG078B", "metadata": GOOD_META} | over
    return json.dumps(body)


def copy(**over: Any) -> str:
    return json.dumps({"experiment": "EG078B", "owner": "demo", "name": "calibration"} | over)


def where(**over: str) -> dict[str, str]:
    return {"experiment": "EG078B", "owner": "demo", "name": "n"} | over


@pytest.fixture
def fake() -> Iterator[FakeService]:
    with FakeService() as service:
        yield service


@pytest.fixture
def evn_config(evn_config: dict[str, Any], fake: FakeService) -> dict[str, Any]:
    return evn_config | {"service_url": fake.url}


# (method, path under evn-submit/, body or query, status, a fragment of the message)
BAD: list[tuple[str, str, Any, int, str]] = [
    *[("POST", p, DEEP, 400, "nested deeper than 64") for p in POSTS],
    ("POST", "submit", DEEP_OBJECT, 400, "nested deeper than 64"),
    *[("POST", p, "[1, 2]", 400, "JSON object") for p in POSTS],
    ("POST", "submit", "null", 400, "JSON object"),
    ("POST", "submit", '"text"', 400, "JSON object"),
    ("POST", "open-copy", "{", 400, "not valid JSON"),
    ("POST", "submit", '{"a": NaN}', 400, "NaN"),
    ("POST", "login", "\ufeff{}".encode(), 400, "byte-order mark"),
    ("POST", "submit", '{"k": "x"}'.encode("utf-16"), 400, "UTF-8"),
    ("POST", "open-copy", b'{"experiment": "EG\xff078B"}', 400, "UTF-8"),
    ("POST", "device/poll", b'{"device_id": "\xed\xa0\x80"}', 400, "UTF-8"),
    ("POST", "submit", submission(message="\ud800"), 400, "lone surrogate"),
    ("POST", "open-copy", '{"\\udfff": 1}', 400, "lone surrogate"),
    ("POST", "device/poll", '{"device_id": 12}', 400, "device_id must be a string"),
    ("POST", "device/poll", '{"device_id": ["a"]}', 400, "device_id must be a string"),
    ("POST", "submit", "", 400, "experiment code"),
    ("POST", "submit", submission(experiment=12), 400, "experiment code"),
    ("POST", "submit", submission(experiment=None), 400, "experiment code"),
    ("POST", "submit", submission(metadata=[1]), 400, "title"),
    ("POST", "submit", submission(metadata={"title": ["x"]}), 400, ""),
    ("POST", "submit", submission(path=12), 400, ".ipynb"),
    ("POST", "submit", submission(path=None), 400, ".ipynb"),
    ("POST", "submit", submission(path="../outside.ipynb"), 400, "inside the Jupyter root"),
    ("POST", "submit", submission(path="a/../../b.ipynb"), 400, "inside the Jupyter root"),
    ("POST", "submit", submission(path="/etc/x.ipynb"), 400, "relative"),
    ("POST", "submit", submission(path="C:/x.ipynb"), 400, "relative"),
    ("POST", "submit", submission(path="a\x00b.ipynb"), 400, "control characters"),
    ("POST", "submit", submission(path="x" * 5000 + ".ipynb"), 400, "too long"),
    ("POST", "submit", submission(path="folder.ipynb"), 400, "folder.ipynb"),
    ("POST", "submit", submission(path="missing.ipynb"), 404, "not found"),
    ("POST", "submit", submission(output_policy=["keep"]), 400, "output_policy must be"),
    ("POST", "submit", submission(output_budget=True), 400, "output_budget"),
    ("POST", "submit", submission(output_budget=-1), 400, "output_budget"),
    ("POST", "submit", submission(output_budget=10**400), 400, "output_budget"),
    ("POST", "submit", submission(message={"a": 1}), 400, "message must be a string"),
    ("POST", "submit", submission(name=["x"]), 400, ""),
    ("POST", "submit", submission(idempotency_key=5), 400, ""),
    ("POST", "submit", submission(experiment="E" * 100_000), 400, "experiment code"),
    ("POST", "open-copy", copy(version=True), 400, "version must be"),
    ("POST", "open-copy", copy(version=0), 400, "version must be"),
    ("POST", "open-copy", copy(version="2"), 400, "version must be"),
    ("POST", "open-copy", copy(version=2**70), 400, "version must be"),
    ("POST", "open-copy", copy(owner=None), 400, "username"),
    ("POST", "open-copy", copy(owner=7), 400, "owner must be a string"),
    ("POST", "open-copy", copy(name="../../x"), 400, ""),
    ("POST", "open-copy", copy(experiment={"x": 1}), 400, "experiment must be a string"),
    ("GET", "preview", {"path": "../x.ipynb"}, 400, "inside the Jupyter root"),
    # Tornado's get_argument turns control characters into spaces: no NUL reaches the route
    ("GET", "preview", {"path": "a\x00.ipynb"}, 404, "not found"),
    ("GET", "preview", {"path": "/abs.ipynb"}, 400, "relative"),
    ("GET", "preview", {"path": "calibration.ipynb", "output_budget": "²"}, 400, "budget"),
    ("GET", "preview", {"path": "calibration.ipynb", "output_budget": "-1"}, 400, "budget"),
    ("GET", "preview", {"path": "calibration.ipynb", "output_budget": "9" * 5000}, 400, "budget"),
    ("GET", "preview", {"path": "calibration.ipynb", "output_policy": "zip"}, 400, "policy"),
    ("GET", "submissions", {"limit": "²"}, 400, "limit"),
    ("GET", "submissions", {"limit": "9" * 5000}, 400, "limit"),
    ("GET", "search", {"limit": "0"}, 400, "limit"),
    ("GET", "search", {"sort": "sideways"}, 400, "sort"),
    ("GET", "search", {"since": "yesterday"}, 400, "since"),
    ("GET", "search", {"until": "2026-13-45"}, 400, "until"),
    ("GET", "experiments/EG..078/notebooks", {}, 400, "experiment code"),
    ("GET", "experiments/EG078B/notebooks", {"limit": "1e3"}, 400, "limit"),
    ("GET", "experiments/EG078B/notebooks/de%00mo/nb/versions", {}, 400, ""),
    ("GET", "experiments/EG078B/notebooks/demo/..%2F..%2Fx/versions", {}, 400, ""),
    ("GET", "diff", where(base="²"), 400, "base"),
    ("GET", "diff", where(remote="9" * 5000), 400, "remote"),
    ("GET", "diff", where(experiment=""), 400, "experiment code"),
    ("GET", "diff", where(base="3", remote="3x"), 400, "remote"),
    ("GET", "diff", where(owner="a/b"), 400, "username"),
    ("GET", "open", where(version="²"), 400, "version"),
    ("GET", "open", where(version="1" * 5000), 400, "version"),
]  # fmt: skip


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


async def _send(jp_fetch: Any, method: str, path: str, data: Any) -> Any:
    kw: dict[str, Any] = {"method": method, "raise_error": False, "request_timeout": 60}
    if method == "POST":
        kw["body"] = data
    else:
        kw["params"] = data
    return await jp_fetch("evn-submit", *path.split("/"), **kw)


@pytest.mark.parametrize(("method", "path", "data", "status", "text"), BAD)
async def test_a_bad_request_is_a_4xx_with_a_message_and_changes_nothing(
    jp_fetch, jp_root_dir, write_notebook, actions, fake, method, path, data, status, text
):
    write_notebook()
    (jp_root_dir / "folder.ipynb").mkdir()
    before = _tree(jp_root_dir)
    r = await _send(jp_fetch, method, path, data)
    assert r.code == status, (r.code, r.body[:300])
    if path == "open":  # a page for the browser, not JSON
        assert r.headers["Content-Type"].startswith("text/html")
        message = r.body.decode()
    else:
        assert r.headers["Content-Type"].startswith("application/json")
        message = body_of(r)["message"]
    assert isinstance(message, str) and len(message) > 10
    assert text in message, message
    assert _tree(jp_root_dir) == before  # nothing written under the Jupyter root
    assert fake.seen == []  # the notebook service was never called
    assert actions.tokens.oidc.token_requests == 0  # nor Keycloak


async def test_the_same_routes_with_good_requests_do_reach_the_service(jp_fetch, fake, actions):
    """The counters above can fail: requests that pass the checks are counted."""
    fake.answer("/notebooks", {"notebooks": [], "next": None, "next_cursor": None})
    fake.answer("/experiments/EG078B/notebooks/demo/calibration", {"message": "gone"}, 404)
    r = await _send(jp_fetch, "GET", "search", {"sort": "updated"})
    assert r.code == 200, r.body
    r = await _send(jp_fetch, "POST", "open-copy", copy(version=2))
    assert r.code == 404 and body_of(r)["message"] == "gone"
    assert [s.path for s in fake.seen] == [
        "/api/v1/notebooks",
        "/api/v1/experiments/EG078B/notebooks/demo/calibration",
    ]


# --- the body judged from the headers, on the wire -------------------------------------------


def _raw(port: int, request: bytes, *, read_for: float = 5.0) -> bytes:
    """Send ``request`` as it is and read what comes back until the server closes or pauses."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_for) as s:
        s.sendall(request)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and _complete(answer):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False


def _head(method: str, path: str, token: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: token {token}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status_and_message(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"text/html" in head:  # the page routes (open) answer a page for the browser
        return status, body.decode()
    return status, json.loads(body)["message"]


@pytest.mark.parametrize(
    ("method", "route", "headers", "status", "text"),
    [
        ("POST", "submit", {"Content-Length": str(MAX_BODY_BYTES + 1)}, 413, "at most"),
        ("POST", "open-copy", {"Content-Length": str(50 * 10**9)}, 413, "at most"),
        ("POST", "submit", {"Content-Length": "12abc"}, 400, "whole number"),
        ("POST", "submit", {"Content-Length": "-5"}, 400, "whole number"),
        ("POST", "login", {"Content-Length": "5", "Transfer-Encoding": "chunked"}, 400, "both"),
        ("GET", "status", {"Content-Length": "5"}, 400, "carries no body"),
        ("GET", "search", {"Transfer-Encoding": "chunked"}, 400, "carries no body"),
        ("GET", "open", {"Content-Length": "5"}, 400, "carries no body"),
    ],
)
async def test_a_body_is_judged_by_its_headers_before_it_is_sent(
    jp_fetch, jp_serverapp, jp_http_port, jp_base_url, fake, method, route, headers, status, text
):
    token = jp_serverapp.identity_provider.token
    # the client waits for "100 Continue" before sending the body: it must never come
    request = _head(method, f"{jp_base_url}evn-submit/{route}", token, headers | {
        "Expect": "100-continue"
    })  # fmt: skip
    answer = await anyio.to_thread.run_sync(_raw, jp_http_port, request)
    assert not answer.startswith(b"HTTP/1.1 100"), answer[:200]
    code, message = _status_and_message(answer)
    assert code == status and text in message, (code, message)
    assert fake.seen == []


async def test_a_chunked_body_over_the_limit_is_413(
    jp_fetch, jp_serverapp, jp_http_port, jp_base_url
):
    token = jp_serverapp.identity_provider.token
    head = _head("POST", f"{jp_base_url}evn-submit/submit", token, {"Transfer-Encoding": "chunked"})
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    body = chunk * (MAX_BODY_BYTES // len(piece) + 2) + b"0\r\n\r\n"
    answer = await anyio.to_thread.run_sync(_raw, jp_http_port, head + body)
    code, message = _status_and_message(answer)
    assert code == 413 and "at most" in message


async def test_an_anonymous_body_is_refused_before_it_is_read(jp_fetch, jp_http_port, jp_base_url):
    request = (
        f"POST {jp_base_url}evn-submit/submit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Length: 100\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    answer = await anyio.to_thread.run_sync(_raw, jp_http_port, request)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]


async def test_a_body_under_the_limit_still_arrives_whole(jp_fetch, write_notebook, actions):
    """The streamed body is the body: a submission of nearly the limit is read and checked."""
    write_notebook("calibration.ipynb", make_notebook())
    padding = "x" * (MAX_BODY_BYTES - 1000)
    r = await _send(jp_fetch, "POST", "submit", submission(metadata=GOOD_META, pad=padding))
    assert r.code == 401, r.body[:300]  # every check passed; only the login is missing


# --- the service's own refusals, passed on ---------------------------------------------------


class _Refusing(http.server.BaseHTTPRequestHandler):
    """The notebook service at the wire, refusing: 429 with Retry-After, or 413."""

    def do_GET(self) -> None:
        status = 413 if "/notebooks/" in self.path else 429
        message = "Too many requests: wait 30 s." if status == 429 else "The notebook is 60 MB."
        data = json.dumps({"message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "30")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def refused(jp_fetch: Any, actions: Any, refusing: str) -> Any:
    """The extension's answers when the service refuses: (search, open-copy)."""
    actions.client.base_url, actions.client.api = refusing, refusing + "/api/v1"

    async def ask() -> tuple[Any, Any]:
        search = await _send(jp_fetch, "GET", "search", {"q": "x"})
        return search, await _send(jp_fetch, "POST", "open-copy", copy())

    return ask


async def test_the_services_429_and_413_pass_through_with_its_message(refused):
    search, opened = await refused()
    assert search.code == 429 and body_of(search)["message"] == "Too many requests: wait 30 s."
    assert opened.code == 413 and body_of(opened)["message"] == "The notebook is 60 MB."


async def test_the_services_retry_after_passes_through(refused):
    search, _ = await refused()
    assert search.headers.get("Retry-After") == "30"


def test_retry_after_is_passed_on_only_in_its_own_shape():
    from jupyterlab_evn_submit.errors import ServiceError, to_http_error

    def header(value: str) -> str | None:
        error = to_http_error(ServiceError(429, "slow down", retry_after=value))
        assert error.status_code == 429 and error.log_message == "slow down"
        return error.headers.get("Retry-After")

    assert header("30") == "30"
    assert header("Wed, 21 Oct 2026 07:28:00 GMT") == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert header("30\r\nSet-Cookie: x=1") is None
    assert header("-1") is None
