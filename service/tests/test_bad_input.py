"""Bad input, table-driven: each case is a 4xx whose message says what is wrong, and Gitea is
left exactly as it was (commit count and file list checked in Gitea itself)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from svc_api import GiteaInspector, OpenAPI, body, experiment_code, notebook
from svc_process import ServiceProcess
from svc_tokens import (
    RealmKey,
    claims_of,
    foreign_key_token,
    hs256_with_public_key,
    unsigned,
)

pytestmark = pytest.mark.stack

LIMIT = 100_000  # the size limit of this module's service, in bytes


@dataclass
class Case:
    id: str
    status: int
    message: str  # a phrase the message must contain (case-insensitive)
    payload: Any = field(default_factory=body)  # dict → JSON; bytes → sent as is
    headers: dict[str, str | None] = field(default_factory=dict)  # None removes a header
    token: str | Callable[[dict], str | None] = "demo"
    code: str | None = None  # another experiment code (URL segment)


def _with(path: str, value: Any) -> dict[str, Any]:
    """The good body with one field (dotted path) replaced, or deleted when value is ...."""
    data = copy.deepcopy(body())
    *parents, last = path.split(".")
    target = data
    for p in parents:
        target = target[p] if not p.isdigit() else target[int(p)]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return data


def _nb(**over: Any) -> dict[str, Any]:
    nb = notebook()
    nb.update(over)
    return nb


CASES = [
    Case("invalid-json", 400, "not valid JSON", b'{"notebook": {'),
    Case("empty-body", 400, "body is empty", b""),
    Case("json-array", 400, "must be a JSON object", b"[]"),
    Case("notebook-is-text", 400, "notebook must be", _with("notebook", "print(1)")),
    Case("not-a-notebook", 400, "nbformat 4", _with("notebook", {"cells": "nope"})),
    Case("nbformat-3", 400, "nbformat 4", _with("notebook", _nb(nbformat=3))),
    Case("bad-cell-type", 400, "not a valid nbformat 4 notebook",
         _with("notebook", _nb(cells=[{"cell_type": "bogus", "source": "", "metadata": {}}]))),
    Case("notebook-without-metadata", 400, "not a valid nbformat",
         _with("notebook", {k: v for k, v in notebook().items() if k != "metadata"})),
    Case("no-cells", 400, "no cells", _with("notebook", _nb(cells=[]))),
    Case("over-size-limit", 413, f"at most {LIMIT} bytes",
         _with("notebook", notebook("x" * (LIMIT + 10)))),
    Case("body-over-request-limit", 413, "larger than this archive accepts",
         b'{"notebook": "' + b"x" * (2 * LIMIT + 4 * 1024 * 1024 + 10) + b'"}'),
    Case("name-with-slash", 400, "slash", _with("name", "a/b")),
    Case("name-dotdot", 400, "'..'", _with("name", "..")),
    Case("name-traversal", 400, "slash", _with("name", "../../etc/passwd")),
    Case("name-backslash-traversal", 400, "slash", _with("name", "..\\..\\x")),
    Case("name-nul", 400, "control", _with("name", "cal\x00.ipynb")),
    Case("name-rtl-override", 400, "invisible", _with("name", "cal\u202eb")),
    Case("name-non-ascii", 400, "non-ASCII", _with("name", "caf\u00e9")),
    Case("name-reserved", 400, "reserved", _with("name", "CON")),
    Case("name-dot-git", 400, "not allowed", _with("name", ".git")),
    Case("name-too-long", 400, "characters long", _with("name", "n" * 81)),
    Case("name-not-a-string", 400, "name must be a string", _with("name", 7)),
    Case("title-only-symbols", 400, "give a 'name'", _with("metadata.title", "★★★")),
    Case("title-control-char", 400, "control", _with("metadata.title", "bad\x1btitle")),
    Case("bad-experiment-code", 400, "not an EVN experiment code", code="not-a-code"),
    Case("unicode-experiment-code", 400, "not an EVN experiment code", code="\u00c9G078B"),
    Case("dotdot-experiment-code", 400, "not an EVN experiment code", code="%2E%2E"),
    Case("wrong-content-type", 415, "application/json",
         headers={"Content-Type": "text/plain"}),
    Case("no-content-type", 415, "application/json", headers={"Content-Type": None}),
    Case("missing-metadata", 400, "metadata is required", _with("metadata", ...)),
    Case("missing-notebook", 400, "'notebook' is required", _with("notebook", ...)),
    Case("missing-title", 400, "title is required", _with("metadata.title", ...)),
    Case("missing-authors", 400, "authors must be", _with("metadata.authors", ...)),
    Case("not-spdx-license", 400, "SPDX", _with("metadata.license", "do what you want")),
    Case("bad-orcid", 400, "check digit", _with("metadata.authors.0.orcid", "0000-0002-1825-0098")),
    Case("unknown-field", 400, "unknown fields", _with("owner", "someone-else")),
    Case("provenance-not-object", 400, "provenance must be", _with("provenance", [1, 2])),
    Case("no-idempotency-key", 400, "Idempotency-Key header is required",
         headers={"Idempotency-Key": None}),
    Case("short-idempotency-key", 400, "8-200 printable", headers={"Idempotency-Key": "abc"}),
    # identity
    Case("no-token", 401, "needs a Keycloak access token", token=lambda t: None),
    Case("basic-auth", 401, "Bearer", headers={"Authorization": "Basic ZGVtbzpkZW1v"}),
    Case("garbage-token", 401, "well-formed", token=lambda t: "not.a.jwt"),
    Case("another-audience", 401, "not meant for this service",
         token=lambda t: t["key"].sign(claims_of(t["demo"], aud="account"))),
    Case("no-audience-real-token", 401, "'aud'", token=lambda t: t["admin_cli"]),
    Case("expired", 401, "expired",
         token=lambda t: t["key"].sign(claims_of(t["demo"], iat=1, exp=1000))),
    Case("not-yet-valid", 401, "not valid yet",
         token=lambda t: t["key"].sign(claims_of(t["demo"], nbf=4102444800))),
    Case("another-issuer", 401, "another issuer",
         token=lambda t: t["key"].sign(claims_of(t["demo"], iss="http://127.0.0.1:1/realms/x"))),
    Case("real-token-of-another-realm", 401, "does not publish", token=lambda t: t["master"]),
    Case("signed-by-another-key", 401, "signature does not verify",
         token=lambda t: foreign_key_token(claims_of(t["demo"]), t["keycloak_kid"])),
    Case("unknown-kid", 401, "does not publish",
         token=lambda t: t["key"].sign(claims_of(t["demo"]), kid="no-such-key")),
    Case("alg-none", 401, "algorithm 'none'",
         token=lambda t: unsigned(claims_of(t["demo"]), t["keycloak_kid"])),
    Case("alg-hs256", 401, "algorithm 'HS256'",
         token=lambda t: hs256_with_public_key(claims_of(t["demo"]), t["keycloak_jwk"])),
    Case("id-token", 401, "not meant for this service", token=lambda t: t["id_token"]),
    Case("no-username", 401, "preferred_username",
         token=lambda t: t["key"].sign(claims_of(t["demo"], preferred_username=None))),
]  # fmt: skip


@pytest.fixture(scope="module")
def small_service(stack: dict[str, str], service_logs: Path) -> Iterator[ServiceProcess]:
    with ServiceProcess(
        stack, service_logs, "small", EVN_SERVICE_MAX_NOTEBOOK_BYTES=str(LIMIT)
    ) as proc:
        yield proc


@pytest.fixture(scope="module")
def tokens(stack: dict[str, str], token: Callable[..., str], realm_key: RealmKey) -> dict[str, Any]:
    issuer = stack["EVN_ISSUER_URL"]
    certs = requests.get(issuer + "/protocol/openid-connect/certs", timeout=30).json()
    keycloak_jwk = next(
        k for k in certs["keys"] if k["alg"] == "RS256" and k["kid"] != realm_key.kid
    )

    def grant(url: str, client: str, user: str, password: str, scope: str = "openid") -> dict:
        r = requests.post(url, timeout=30, data={"grant_type": "password", "client_id": client,
                                                 "username": user, "password": password,
                                                 "scope": scope})  # fmt: skip
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    test_grant = grant(issuer + "/protocol/openid-connect/token", stack["EVN_TEST_CLIENT_ID"],
                       stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])  # fmt: skip
    return {
        "demo": token(),
        "key": realm_key,
        "keycloak_kid": keycloak_jwk["kid"],
        "keycloak_jwk": keycloak_jwk,
        "id_token": test_grant["id_token"],
        "admin_cli": grant(issuer + "/protocol/openid-connect/token", "admin-cli",
                           stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])["access_token"],
        "master": grant(stack["EVN_KEYCLOAK_URL"] + "/realms/master/protocol/openid-connect/token",
                        "admin-cli", stack["EVN_KEYCLOAK_ADMIN_USER"],
                        stack["EVN_KEYCLOAK_ADMIN_PASSWORD"])["access_token"],
    }  # fmt: skip


@pytest.fixture(scope="module")
def target(
    small_service: ServiceProcess, token: Callable[..., str], gitea: GiteaInspector
) -> dict[str, Any]:
    """An experiment holding one good submission: what every bad case must leave untouched."""
    code = experiment_code()
    r = requests.post(
        f"{small_service.url}/api/v1/experiments/{code}/notebooks",
        data=json.dumps(body()),
        headers={"Authorization": "Bearer " + token(), "Content-Type": "application/json",
                 "Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return {"code": code, "commits": gitea.commit_count(code), "tree": sorted(gitea.tree(code))}


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_nothing_is_written(
    case: Case,
    small_service: ServiceProcess,
    openapi: OpenAPI,
    tokens: dict[str, Any],
    target: dict[str, Any],
    gitea: GiteaInspector,
) -> None:
    code = case.code or target["code"]
    bearer = tokens["demo"] if case.token == "demo" else case.token(tokens)  # type: ignore[operator]
    headers: dict[str, str | None] = {
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
        "Authorization": f"Bearer {bearer}" if bearer else None,
        **case.headers,
    }
    data = case.payload if isinstance(case.payload, bytes) else json.dumps(case.payload).encode()
    r = requests.post(
        f"{small_service.url}/api/v1/experiments/{code}/notebooks",
        data=data,
        headers={k: v for k, v in headers.items() if v is not None},
        timeout=60,
    )
    assert r.status_code == case.status, r.text
    message = openapi.check("/api/v1/experiments/{code}/notebooks", "post", r)["message"]
    assert case.message.lower() in message.lower()
    if r.status_code == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert gitea.commit_count(target["code"]) == target["commits"]
    assert sorted(gitea.tree(target["code"])) == target["tree"]
    if case.code and case.code.isalnum():
        assert not gitea.repo_exists(case.code.upper())
