"""The transport, decided from the headers (``bodies.py``), against a real service on raw sockets:
framing, 413 before any body (no ``100 Continue``), no body on GET, 408 for a slow body, 405 with
``Allow`` on every route, the 401's ``WWW-Authenticate``, the webhook's body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from svc_api import body, experiment_code
from svc_process import ServiceProcess
from svc_raw import closed_by_server, connect, head, read_answer

pytestmark = pytest.mark.stack

LIMIT = 100_000  # max_notebook_bytes of this module's service
BODY_LIMIT = 2 * LIMIT + 4 * 1024 * 1024  # app.body_limit
TIMEOUT = 2  # body_timeout_seconds
SECRET = "transport-webhook-secret"
CODE = "EG078B"
SUBMIT = f"/api/v1/experiments/{CODE}/notebooks"
# every route, with the methods it has (a test below checks each one's 405 and Allow)
ROUTES = {
    "/api/v1/health": {"GET"},
    "/api/v1/openapi.json": {"GET"},
    "/api/v1/me/submissions": {"GET"},
    "/api/v1/notebooks": {"GET"},
    "/api/v1/hooks/gitea": {"POST"},
    SUBMIT: {"GET", "POST"},
    f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb": {"GET"},
    f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb/versions": {"GET", "POST"},
}
RFC6750_QUOTED = r"[\x20\x21\x23-\x5b\x5d-\x7e]*"


@pytest.fixture(scope="module")
def svc(stack: dict[str, str], service_logs: Path) -> Iterator[ServiceProcess]:
    with ServiceProcess(
        stack,
        service_logs,
        "transport",
        EVN_SERVICE_MAX_NOTEBOOK_BYTES=str(LIMIT),
        EVN_SERVICE_BODY_TIMEOUT_SECONDS=str(TIMEOUT),
        EVN_SERVICE_WEBHOOK_SECRET=SECRET,
    ) as proc:
        yield proc


def _submit_head(svc: ServiceProcess, bearer: str, **headers: str) -> bytes:
    return head(
        "POST",
        SUBMIT,
        svc.port,
        Authorization=f"Bearer {bearer}",
        Content_Type="application/json",
        Idempotency_Key=str(uuid.uuid4()),
        **headers,
    )


def _ask(svc: ServiceProcess, request: bytes, then: bytes = b"") -> tuple:
    sock = connect(svc.port)
    sock.sendall(request)
    if then:
        sock.sendall(then)
    answer = read_answer(sock)
    return answer, sock


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Length": "abc"},
        {"Content-Length": "-1"},
        {"Content-Length": "+5"},
        {"Content-Length": "1.5"},
        {"Content-Length": "0x10"},
        {"Content-Length": "5, 5"},
        {"Content-Length": "\xb2"},  # '²' in Latin-1, as HTTP headers are read
        {"Content-Length": "5", "Transfer-Encoding": "chunked"},
        {"Transfer-Encoding": "gzip, chunked"},
    ],
    ids=["abc", "negative", "plus", "fraction", "hex", "list", "superscript", "cl-and-te", "gzip"],
)
def test_untrustworthy_framing_is_a_400_with_a_message(
    svc: ServiceProcess, token: Callable[..., str], headers: dict[str, str]
) -> None:
    request = _submit_head(svc, token(), **{k.replace("-", "_"): v for k, v in headers.items()})
    answer, sock = _ask(svc, request)
    assert answer.status == 400, answer.raw
    assert re.search("Content-Length|Transfer-Encoding", answer.json()["message"])
    assert answer.headers["connection"] == "close"
    assert closed_by_server(sock, within=TIMEOUT + DRAIN_MARGIN)


DRAIN_MARGIN = 12  # bodies.DRAIN_SECONDS and some


@pytest.mark.parametrize("expect", [True, False], ids=["expect-100-continue", "no-expect"])
def test_a_content_length_over_the_limit_is_413_before_any_body(
    svc: ServiceProcess, token: Callable[..., str], expect: bool
) -> None:
    extra = {"Expect": "100-continue"} if expect else {}
    started = time.monotonic()
    sock = connect(svc.port)
    sock.sendall(_submit_head(svc, token(), Content_Length=str(10**12), **extra))
    first = sock.recv(12)
    assert first == b"HTTP/1.1 413", first  # no "HTTP/1.1 100 (Continue)" first
    answer = read_answer(sock, first)
    assert "larger than this archive accepts" in json.loads(answer.body)["message"]
    assert time.monotonic() - started < 5, "answered without waiting for a terabyte"
    assert closed_by_server(sock)


def test_a_client_still_sending_reads_the_413(
    svc: ServiceProcess, token: Callable[..., str]
) -> None:
    """A body just over the limit, sent whole without waiting (as `requests` does): the sender
    is not reset while the answer waits to be read (the service drains, then closes)."""
    data = b"x" * (BODY_LIMIT + 1)
    sock = connect(svc.port)
    sock.sendall(_submit_head(svc, token(), Content_Length=str(len(data))))
    sent: list[BaseException | None] = []

    def send() -> None:
        try:
            sock.sendall(data)
            sent.append(None)
        except OSError as e:
            sent.append(e)

    sender = threading.Thread(target=send)
    sender.start()
    sender.join(30)
    answer = read_answer(sock)
    assert answer.status == 413 and sent == [None], (answer.raw, sent)


def test_a_body_on_get_is_refused_before_it_is_sent(svc: ServiceProcess) -> None:
    for method, path, framing in [
        ("GET", "/api/v1/health", {"Content_Length": "10"}),
        ("GET", "/api/v1/notebooks", {"Transfer_Encoding": "chunked"}),
    ]:
        answer, sock = _ask(svc, head(method, path, svc.port, **framing))  # no body sent
        assert answer.status == 400, (method, answer.raw)
        assert f"a {method} request carries no body" in answer.json()["message"]
        sock.close()
    # no route has DELETE: that comes first, still before the body
    answer, sock = _ask(svc, head("DELETE", SUBMIT, svc.port, Content_Length="5"))
    assert answer.status == 405 and answer.headers["connection"] == "close"
    # Content-Length: 0 on a GET is no body at all
    r = requests.get(svc.url + "/api/v1/health", headers={"Content-Length": "0"}, timeout=10)
    assert r.status_code == 200


def test_a_body_slower_than_the_timeout_is_408_and_the_connection_closed(
    svc: ServiceProcess, token: Callable[..., str]
) -> None:
    for framing, part in [({"Content_Length": "1000"}, b'{"notebook"'),
                          ({"Transfer_Encoding": "chunked"}, b"5\r\n{\"not\r\n")]:  # fmt: skip
        started = time.monotonic()
        answer, sock = _ask(svc, _submit_head(svc, token(), **framing), part)
        assert answer.status == 408, answer.raw
        assert f"did not arrive within {TIMEOUT} seconds" in answer.json()["message"]
        assert TIMEOUT - 0.5 < time.monotonic() - started < TIMEOUT + 3
        assert answer.headers["connection"] == "close"
        assert closed_by_server(sock)


def test_a_chunked_body_growing_past_the_limit_is_413(
    svc: ServiceProcess, token: Callable[..., str]
) -> None:
    sock = connect(svc.port)
    sock.sendall(_submit_head(svc, token(), Transfer_Encoding="chunked"))
    piece = b"x" * 65536
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    try:
        for _ in range(BODY_LIMIT // len(piece) + 2):
            sock.sendall(chunk)
    except OSError:
        pass  # answered and closed while sending: the answer is still to be read
    answer = read_answer(sock)
    assert answer.status == 413 and "larger than this archive accepts" in answer.json()["message"]


def test_a_good_submission_still_goes_through(
    svc: ServiceProcess, token: Callable[..., str]
) -> None:
    code = experiment_code()
    r = requests.post(
        f"{svc.url}/api/v1/experiments/{code}/notebooks",
        data=json.dumps(body()),
        headers={"Authorization": "Bearer " + token(), "Content-Type": "application/json",
                 "Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )  # fmt: skip
    assert r.status_code == 201, r.text


def test_a_bad_token_with_expect_100_continue_is_answered_at_once(svc: ServiceProcess) -> None:
    sock = connect(svc.port)
    sock.sendall(_submit_head(svc, "not.a.jwt", Content_Length="5000", Expect="100-continue"))
    answer = read_answer(sock)
    assert answer.first_line.startswith(b"HTTP/1.1 401"), answer.raw
    assert "well-formed" in answer.json()["message"]


def test_every_route_answers_405_with_allow(svc: ServiceProcess) -> None:
    session = requests.Session()
    for path, allowed in ROUTES.items():
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"):
            if method in allowed:
                continue
            r = session.request(method, svc.url + path, timeout=10)
            assert r.status_code == 405, (method, path, r.text)
            assert set(r.headers["Allow"].split(", ")) == allowed, (method, path)
            if method != "HEAD":
                assert f"{method} is not allowed here" in r.json()["message"]
    answer, _ = _ask(svc, head("TRACE", "/api/v1/health", svc.port))
    assert answer.status == 405 and answer.headers["allow"] == "GET"


def test_a_refusal_without_a_body_keeps_the_connection(svc: ServiceProcess) -> None:
    sock = connect(svc.port)
    for path in ("/api/v1/nope", "/api/v1/hooks/gitea", "/api/v1/health"):
        sock.sendall(head("GET", path, svc.port))
        answer = read_answer(sock)
        assert "connection" not in answer.headers, (path, answer.raw)
    assert answer.status == 200


def _jwt(header: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part({'sub': 'x'})}.c2ln"


@pytest.mark.parametrize(
    ("alg", "shown"),
    [('a"b\\c', "a'b''c"), ("\u00e9\u20ac\x07", "'??'x07'"), ("x" * 1000, "...")],
    ids=["quote-and-backslash", "non-ascii-and-control", "long"],
)
def test_a_401_challenge_is_always_well_quoted(svc: ServiceProcess, alg: str, shown: str) -> None:
    for method, path in (("GET", "/api/v1/me/submissions"), ("POST", SUBMIT)):
        bearer = "Bearer " + _jwt({"alg": alg, "kid": "k"})
        r = requests.request(method, svc.url + path, headers={"Authorization": bearer}, timeout=10)
        assert r.status_code == 401 and "algorithm" in r.json()["message"]
        challenge = r.headers["WWW-Authenticate"]
        match = re.fullmatch(
            rf'Bearer realm="evn-notebook-service", error="invalid_token", '
            rf'error_description="({RFC6750_QUOTED})"',
            challenge,
        )
        assert match and shown in match.group(1) and len(match.group(1)) <= 200, challenge


def test_every_401_has_a_challenge(svc: ServiceProcess) -> None:
    r = requests.get(svc.url + "/api/v1/me/submissions", timeout=10)
    assert r.status_code == 401 and r.json()["message"]
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="evn-notebook-service"'
    r = requests.post(svc.url + "/api/v1/hooks/gitea", data=b"{}", timeout=10)
    assert r.status_code == 401 and "X-Gitea-Signature" in r.json()["message"]
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="evn-notebook-service"')


def _signed(data: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), data, hashlib.sha256).hexdigest()
    return {"X-Gitea-Event": "push", "X-Gitea-Signature": digest}


def test_the_webhook_body_is_checked(svc: ServiceProcess) -> None:
    hook = svc.url + "/api/v1/hooks/gitea"
    nested = b"[" * 100 + b"]" * 100
    r = requests.post(hook, data=nested, headers=_signed(nested), timeout=10)
    assert r.status_code == 400 and "nested deeper than 64" in r.json()["message"]
    utf16 = json.dumps({"zen": "x"}).encode("utf-16")
    r = requests.post(hook, data=utf16, headers=_signed(utf16), timeout=10)
    assert r.status_code == 400 and "UTF-8" in r.json()["message"]
    ping = b'{"zen": "hello"}'
    r = requests.post(hook, data=ping, headers={**_signed(ping), "X-Gitea-Event": "ping"},
                      timeout=10)  # fmt: skip
    assert r.status_code == 202
    big = str(5 * 1024 * 1024 + 1)
    answer, _ = _ask(svc, head("POST", "/api/v1/hooks/gitea", svc.port, Content_Length=big,
                               X_Gitea_Signature="0" * 64))  # fmt: skip
    assert answer.status == 413 and "at most 5242880 bytes" in answer.json()["message"]


@pytest.mark.parametrize(
    "target",
    [
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=%C2%B2",
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=%D9%A3",
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=%EF%BC%91",
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=" + "9" * 5000,
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=%2B1",
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=1e3",
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=0x1",
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=%201",
        f"/api/v1/experiments/{CODE}/notebooks/demo/x.ipynb?version=%FF",
        "/api/v1/notebooks?limit=%201",
        "/api/v1/notebooks?limit=%EF%BC%91",
        "/api/v1/notebooks?limit=1&limit=1000",
        "/api/v1/notebooks?q=%FF",
        "/api/v1/notebooks?since=" + "2" * 5000,
        "/api/v1/notebooks?experiment=" + "E" * 5000,
        "/api/v1/notebooks?orcid=" + "0" * 5000,
        "/api/v1/notebooks?cursor=%20x",
        "/api/v1/experiments/%FF/notebooks",
        f"/api/v1/experiments/{CODE}%00/notebooks",
        f"/api/v1/experiments/{CODE}/notebooks/%FF/x.ipynb",
        f"/api/v1/experiments/{CODE}/notebooks/demo/x%00.ipynb/versions",
        f"/api/v1/experiments/{'E' * 20000}/notebooks",
    ],
)
def test_no_query_or_path_is_a_500(svc: ServiceProcess, target: str) -> None:
    answer, _ = _ask(svc, head("GET", target, svc.port))
    assert answer.status == 400, (target[:120], answer.raw[:500])
    assert answer.json()["message"]
