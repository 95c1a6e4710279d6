"""Faults through a TCP proxy in front of the real Gitea / Keycloak: 503/504 with a message,
nothing half-written, and a retry with the same key landing exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from svc_api import GiteaInspector, OpenAPI, body, notebook, submit
from svc_process import ServiceProcess
from svc_proxy import TcpProxy
from svc_tokens import RealmKey, claims_of

pytestmark = pytest.mark.stack
SUBMIT = "/api/v1/experiments/{code}/notebooks"
TIMEOUT = 5


def _answered(url: str, code: str, tok: str, payload: dict, key: str) -> requests.Response:
    """Retry with the same key until the service answers other than 503/504 (a loaded machine
    can make a single retry time out again; the key keeps it to one commit)."""
    deadline = time.monotonic() + 180
    while True:
        r = submit(url, code, tok, payload, key)
        if r.status_code not in (503, 504) or time.monotonic() > deadline:
            return r
        time.sleep(2)


def _proxy(url: str) -> TcpProxy:
    parts = urlsplit(url)
    return TcpProxy(parts.hostname or "127.0.0.1", parts.port or 80)


@pytest.fixture
def gitea_proxy(stack: dict[str, str]) -> Iterator[TcpProxy]:
    proxy = _proxy(stack["EVN_GITEA_URL"])
    yield proxy
    proxy.close()


@pytest.fixture
def behind_proxy(
    stack: dict[str, str], service_logs: Path, gitea_proxy: TcpProxy
) -> Iterator[ServiceProcess]:
    with ServiceProcess(
        stack,
        service_logs,
        "gitea-proxied",
        EVN_GITEA_URL=gitea_proxy.url,
        EVN_GITEA_PUBLIC_URL=stack["EVN_GITEA_URL"],
        EVN_SERVICE_REQUEST_TIMEOUT=str(TIMEOUT),
        EVN_SERVICE_CONNECT_TIMEOUT="2",
    ) as proc:
        yield proc


@pytest.mark.parametrize(
    ("mode", "status", "phrase"),
    [("down", 503, "unreachable"), ("slow", 504, "did not answer in time")],
)
def test_gitea_down_or_slow_then_a_retry_lands_once(
    mode: str,
    status: int,
    phrase: str,
    behind_proxy: ServiceProcess,
    gitea_proxy: TcpProxy,
    service: ServiceProcess,
    openapi: OpenAPI,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
) -> None:
    first = submit(service.url, code, token(), body(name="before"))
    assert first.status_code == 201, first.text
    commits = gitea.commit_count(code)
    tree = sorted(gitea.tree(code))

    gitea_proxy.mode = mode
    gitea_proxy.slow_seconds = TIMEOUT + 2
    key = str(uuid.uuid4())
    payload = body(name="during", notebook=notebook("print('fault')"))
    r = submit(behind_proxy.url, code, token(), payload, key)
    assert r.status_code == status, r.text
    message = openapi.check(SUBMIT, "post", r)["message"]
    assert phrase in message and "Idempotency-Key" in message
    assert gitea.commit_count(code) == commits and sorted(gitea.tree(code)) == tree

    # a new experiment cannot even get its repository while Gitea is away
    other = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert submit(behind_proxy.url, other, token(), body(), timeout=30).status_code == status
    assert not gitea.repo_exists(other)

    gitea_proxy.mode = "up"
    time.sleep(TIMEOUT + 2.5)  # let held connections drain
    retry = _answered(behind_proxy.url, code, token(), payload, key)
    assert retry.status_code in (200, 201), retry.text
    assert gitea.commit_count(code) == commits + 1
    again = submit(behind_proxy.url, code, token(), payload, key)
    assert again.status_code == 200 and again.json()["commit"] == retry.json()["commit"]
    assert gitea.commit_count(code) == commits + 1


def test_commit_landed_but_answer_lost_is_not_committed_twice(
    behind_proxy: ServiceProcess,
    gitea_proxy: TcpProxy,
    service: ServiceProcess,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
) -> None:
    assert submit(service.url, code, token(), body(name="before")).status_code == 201
    commits = gitea.commit_count(code)
    gitea_proxy.mode = "slow-writes"  # Gitea commits, its answer arrives after our timeout
    gitea_proxy.slow_seconds = TIMEOUT + 2
    key = str(uuid.uuid4())
    payload = body(name="ambiguous")
    r = submit(behind_proxy.url, code, token(), payload, key)
    assert r.status_code == 504, r.text
    deadline = time.monotonic() + 120
    while gitea.commit_count(code) == commits and time.monotonic() < deadline:
        time.sleep(0.5)
    assert gitea.commit_count(code) == commits + 1, "the write reached Gitea"
    gitea_proxy.mode = "up"
    retry = _answered(behind_proxy.url, code, token(), payload, key)
    assert retry.status_code == 200 and retry.json()["created"] is False, retry.text
    log = gitea.api(f"/repos/{gitea.org}/{code}/commits", limit=1, stat="false").json()
    assert retry.json()["commit"] == log[0]["sha"]
    assert gitea.commit_count(code) == commits + 1


@pytest.fixture
def keycloak_proxy(stack: dict[str, str]) -> Iterator[TcpProxy]:
    proxy = _proxy(stack["EVN_ISSUER_URL"])
    yield proxy
    proxy.close()


def test_jwks_refetched_for_a_new_key_and_cached_keys_work_when_keycloak_is_away(
    stack: dict[str, str],
    service_logs: Path,
    keycloak_proxy: TcpProxy,
    new_realm_key: Callable[[], RealmKey],
    token: Callable[..., str],
    code: str,
) -> None:
    issuer_path = urlsplit(stack["EVN_ISSUER_URL"]).path
    with ServiceProcess(
        stack,
        service_logs,
        "jwks-proxied",
        EVN_JWKS_URL=f"{keycloak_proxy.url}{issuer_path}/protocol/openid-connect/certs",
        EVN_SERVICE_JWKS_MIN_REFRESH_SECONDS="0.5",
        EVN_SERVICE_JWKS_TIMEOUT="3",
    ) as svc:
        assert submit(svc.url, code, token(), body(name="a")).status_code == 201
        fresh = new_realm_key()  # a kid the service has not seen: it must fetch the JWKS again
        time.sleep(0.6)
        r = submit(svc.url, code, fresh.sign(claims_of(token())), body(name="b"))
        assert r.status_code == 201, r.text

        keycloak_proxy.mode = "down"
        for name in ("c", "d"):  # Keycloak's keys are cached: tokens keep verifying
            r = submit(svc.url, code, token(), body(name=name))
            assert r.status_code == 201, r.text
        assert submit(svc.url, code, fresh.sign(claims_of(token())), body(name="e")).ok
        unseen = new_realm_key()
        time.sleep(0.6)
        r = submit(svc.url, code, unseen.sign(claims_of(token())), body(name="f"))
        assert r.status_code == 503 and "unreachable" in r.json()["message"], r.text
