"""Every bad request to the real devstack service is a 4xx with a JSON message, and writes nothing.

The table (bad_input_rows.py, ~200 rows) covers every route: tokens, headers, bodies, path
segments, query parameters, methods, the Gitea webhook. Requests go out through ``http.client``
or a socket, byte for byte (``requests`` would normalise paths, headers and bodies). Gitea is
snapshotted before the table and compared after it: no repository appeared, no commit was added.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from bad_input_rows import HOOK, ODD_CODES, SUBMIT, Row, dumps, good, rows
from svc_api import GiteaInspector, submit
from svc_tokens import claims_of, hs256_with_public_key, unsigned

from devstack.testing import password_grant

pytestmark = pytest.mark.stack
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class Target:
    """The devstack service, the table's experiments and a token, shared by the rows."""

    def __init__(self, stack: dict[str, str]) -> None:
        self.stack = stack
        # the environment's service when given (CI exports devstack's; a developer may point
        # the table at a service of their own), else devstack's
        self.url = os.environ.get("EVN_SERVICE_URL", stack["EVN_SERVICE_URL"]).rstrip("/")
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        suffix = "".join(random.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=4))
        self.code = f"BI{random.randint(100, 999)}{suffix}"  # BI: bad inputs
        self.fresh = f"BI{random.randint(100, 999)}{suffix[::-1]}"
        self.name = ""
        self.access = ""

    def path(self, template: str) -> str:
        return template.format(code=self.code, fresh=self.fresh, name=self.name)

    def send(
        self, method: str, path: str, data: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            given = {k.lower() for k in (headers or {})}
            for k, v in (headers or {}).items():
                if v != "":
                    conn.putheader(k, v)
            if data and "content-length" not in given:
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data or None)
            r = conn.getresponse()
            return r.status, r.headers, r.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def target(stack: dict[str, str]) -> Target:
    t = Target(stack)
    t.access = password_grant(stack)["access_token"]
    r = submit(t.url, t.code, t.access, _first_body())
    assert r.status_code == 201, r.text
    t.name = r.json()["name"]
    return t


def _first_body() -> dict[str, Any]:
    return json.loads(good())


def _gitea_state(gitea: GiteaInspector, t: Target) -> dict[str, Any]:
    repos = set()
    page = 1
    while True:
        r = gitea.api(f"/orgs/{gitea.org}/repos", limit=50, page=page)
        r.raise_for_status()
        repos |= {x["name"].upper() for x in r.json()}
        if len(r.json()) < 50:
            break
        page += 1
    return {"repos": repos, "commits": gitea.commit_count(t.code), "tree": gitea.tree(t.code)}


@pytest.fixture(scope="module")
def before(gitea: GiteaInspector, target: Target) -> Iterator[dict[str, Any]]:
    yield _gitea_state(gitea, target)


def _headers(t: Target, method: str, extra: dict[str, str]) -> dict[str, str]:
    h = {"Host": f"{t.host}:{t.port}", "Authorization": "Bearer " + t.access}
    if method in ("POST", "PUT"):
        h |= {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    h |= extra
    return h


def _check(status: int, headers: http.client.HTTPMessage, data: bytes, expected: int | str) -> None:
    if expected == "4xx":
        assert 400 <= status < 500, (status, data[:300])
    else:
        assert status == expected, (status, data[:300])
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    message = json.loads(data)["message"]
    assert isinstance(message, str) and message.strip(), data[:300]
    if status == 401:
        assert headers.get("WWW-Authenticate", "").startswith('Bearer realm="'), headers
    if status == 405:  # RFC 9110: Allow lists the route's methods, comma separated
        allow = [m.strip() for m in headers.get("Allow", "").split(",")]
        assert allow and set(allow) <= METHODS, f"Allow: {headers.get('Allow')!r}"


@pytest.mark.parametrize("row", rows(), ids=lambda r: r[0])
def test_bad_request(row: Row, target: Target, before: dict[str, Any]) -> None:
    _, method, template, data, extra, expected = row
    if "Transfer-Encoding" in extra:
        extra = {**extra, "Content-Length": str(len(data))}
    status, headers, answer = target.send(
        method, target.path(template), data, _headers(target, method, extra)
    )
    _check(status, headers, answer, expected)


def _forged(t: Target) -> dict[str, str]:
    kid = jwt.get_unverified_header(t.access)["kid"]
    jwks = requests.get(
        t.stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/certs", timeout=30
    ).json()["keys"]
    jwk = next(k for k in jwks if k["kid"] == kid)
    head, payload, sig = t.access.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["sub"] = "someone-else"
    tampered = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return {
        "alg none": unsigned(claims_of(t.access), kid),
        "HS256 with the public key": hs256_with_public_key(claims_of(t.access), jwk),
        "payload changed, signature kept": f"{head}.{tampered}.{sig}",
        "expired-looking (exp changed)": unsigned(claims_of(t.access, exp=1), kid),
        "signature cut": f"{head}.{payload}.",
    }


def test_forged_tokens(target: Target, before: dict[str, Any]) -> None:
    for what, forged in _forged(target).items():
        extra = {"Authorization": "Bearer " + forged}
        status, headers, answer = target.send(
            "POST", target.path(SUBMIT), good(), _headers(target, "POST", extra)
        )
        assert status == 401, (what, status, answer[:200])
        _check(status, headers, answer, 401)


def _raw_exchange(t: Target, head: str, data: bytes, wait: float = 10) -> str:
    """Send a request head (and some body) on a socket; the first line of the answer."""
    with socket.create_connection((t.host, t.port), timeout=wait) as sock:
        sock.sendall(head.encode("latin-1") + data)
        try:
            answer = sock.recv(4096).decode("latin-1")
        except TimeoutError:
            return "no answer"
    return answer


def test_oversize_content_length_refused_from_the_headers(
    target: Target, before: dict[str, Any]
) -> None:
    for path in (target.path(SUBMIT), HOOK):
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {target.access}\r\n"
            f"Content-Type: application/json\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
            f"X-Gitea-Signature: {'0' * 64}\r\nContent-Length: {1 << 34}\r\n\r\n"
        )
        answer = _raw_exchange(target, head, b"{" + b" " * 65536)
        assert answer.split("\r\n")[0].split(" ")[1:2] == ["413"], (path, answer[:200])
        assert '"message"' in answer


def test_authorization_not_latin1(target: Target, before: dict[str, Any]) -> None:
    head = (
        f"POST {target.path(SUBMIT)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Length: {len(good())}\r\n"
    )
    answer = _raw_exchange(
        target, head + "Authorization: Bearer ", b"\xff\xfe\xc3\x28\r\n\r\n" + good()
    )
    assert answer.split("\r\n")[0].split(" ")[1:2] == ["401"], answer[:300]


def _signed(t: Target, data: bytes, secret: str | None = None) -> dict[str, str]:
    key = (secret or t.stack["EVN_SERVICE_WEBHOOK_SECRET"]).encode()
    return {
        "Content-Type": "application/json",
        "X-Gitea-Event": "push",
        "X-Gitea-Signature": hmac.new(key, data, hashlib.sha256).hexdigest(),
    }


def _push(repo: str) -> bytes:
    return dumps(
        {"ref": "refs/heads/main", "repository": {"name": repo, "owner": {"login": "EVN"}}}
    )


def _hook_rows(t: Target) -> list[tuple[str, bytes, dict[str, str], int | str]]:
    push = _push(t.code)
    deep = b'{"ref": ' + b"[" * 50000 + b"]" * 50000 + b"}"
    return [
        ("unsigned", push, {"Content-Type": "application/json", "X-Gitea-Event": "push"}, 401),
        ("wrong secret", push, _signed(t, push, "not-the-secret"), 401),
        ("signature of another body", push, _signed(t, b"{}"), 401),
        ("signature not hex", push, {**_signed(t, push), "X-Gitea-Signature": "zz" * 32}, 401),
        ("signature too long", push, {**_signed(t, push), "X-Gitea-Signature": "a" * 10000},
         401),
        ("signed, nested 50,000", deep, _signed(t, deep), 400),
    ] + [
        (f"signed, {what}", data, _signed(t, data), 400)
        for what, data in [
            ("not JSON", b"{"),
            ("UTF-16", push.decode().encode("utf-16")),
            ("lone surrogate", b'{"ref": "\\ud800"}'),
            ("NaN", b'{"ref": NaN}'),
            ("empty", b""),
        ]
    ]  # fmt: skip


def test_webhook_bad_inputs(target: Target, before: dict[str, Any]) -> None:
    failures = []
    for row in _hook_rows(target):
        what, data, headers, expected = row
        headers = {"Host": "x", **headers}
        status, got, answer = target.send("POST", HOOK, data, headers)
        try:
            _check(status, got, answer, expected)
        except (AssertionError, ValueError, KeyError) as e:
            failures.append(f"{what}: {e!r}"[:300])
    assert not failures, "\n".join(failures)


def test_odd_codes_never_became_repositories(gitea: GiteaInspector, before: dict[str, Any]) -> None:
    """What a careless upper() or NFKC would make of the odd codes: none of them exists."""
    folded = {"EG07SS", "EGS78B", "EK078B", "EG078B\n", "EG078B", "EG078B\x00"}
    appeared = {
        c for c in folded if c.strip() not in before["repos"] and gitea.repo_exists(c.strip())
    }
    assert not appeared
    assert ODD_CODES  # the rows above sent them


def test_nothing_was_written(gitea: GiteaInspector, target: Target, before: dict[str, Any]) -> None:
    """Runs last: the table neither created a repository nor added a commit."""
    after = _gitea_state(gitea, target)
    assert after["commits"] == before["commits"]
    assert after["tree"] == before["tree"]
    assert not gitea.repo_exists(target.fresh)
    new = {r for r in after["repos"] - before["repos"] if r.startswith("BI") or "FRESH" in r}
    assert not new, f"the table created repositories: {sorted(new)}"
