"""The read side over the archive index, against the real stack: pages, search, filters, caching.

One service process with its own index reaches Gitea through a TCP proxy, so a test can cut
Gitea off and show that lists, search and versions never ask it (only a notebook's bytes do).
Everything runs on a SQLite index, and again on a PostgreSQL one when devstack runs PostgreSQL
(``EVN_DEVSTACK_POSTGRES=1``: a fresh database of its own, dropped afterwards).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from svc_api import GiteaInspector, OpenAPI, body, experiment_code, metadata, submit, walk
from svc_process import ServiceProcess, fresh_postgres_database
from svc_proxy import TcpProxy

pytestmark = pytest.mark.stack

LIST = "/api/v1/experiments/{code}/notebooks"
ONE = LIST + "/{owner}/{name}"
VERSIONS = ONE + "/versions"
SEARCH = "/api/v1/notebooks"
MINE = "/api/v1/me/submissions"
READY_SECONDS = 300  # the first start indexes the whole organisation (other tests' too)
SECRET = "reads-" + uuid.uuid4().hex


def _notebook(markdown: str, code: str, output: str) -> dict[str, Any]:
    return {
        "cells": [
            {"cell_type": "markdown", "id": "md", "metadata": {}, "source": markdown},
            {
                "cell_type": "code",
                "execution_count": 1,
                "id": "code",
                "metadata": {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": output}],
                "source": code,
            },
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _ready(url: str, timeout: float = READY_SECONDS) -> None:
    """Wait until the index answers (it is migrated and the first rebuild is over)."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(url + SEARCH, params={"limit": 1}, timeout=30)
        if r.status_code == 200:
            return
        assert r.status_code == 503 and r.headers["Retry-After"].isdigit(), r.text
        assert time.monotonic() < deadline, f"the index never became ready: {r.text}"
        time.sleep(1)


@pytest.fixture(scope="module")
def gitea_proxy(stack: dict[str, str]) -> Iterator[TcpProxy]:
    parts = urlsplit(stack["EVN_GITEA_URL"])
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 80)
    yield proxy
    proxy.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def index_url(
    request: pytest.FixtureRequest, stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('reads-index') / 'index.sqlite'}"
        return
    if not stack.get("EVN_POSTGRES_TEST_URL"):
        pytest.skip("no PostgreSQL: run EVN_DEVSTACK_POSTGRES=1 python3 -m devstack up")
    with fresh_postgres_database(stack, "evn_reads_") as url:
        yield url


@pytest.fixture(scope="module")
def reads(
    stack: dict[str, str], service_logs: Path, gitea_proxy: TcpProxy, index_url: str
) -> Iterator[ServiceProcess]:
    with ServiceProcess(
        stack,
        service_logs,
        "reads",
        EVN_SERVICE_INDEX_URL=index_url,
        EVN_GITEA_URL=gitea_proxy.url,
        EVN_GITEA_PUBLIC_URL=stack["EVN_GITEA_URL"],
        EVN_SERVICE_RECONCILE_SECONDS="0",
        EVN_SERVICE_WEBHOOK_SECRET=SECRET,
        EVN_SERVICE_REQUEST_TIMEOUT="10",
        EVN_SERVICE_CONNECT_TIMEOUT="2",
    ) as proc:
        _ready(proc.url)
        yield proc


@pytest.fixture(scope="module")
def archive(reads: ServiceProcess, token: Callable[..., str]) -> dict[str, Any]:
    """One experiment: demo's alpha (2 versions) and beta, researcher2's gamma; written through
    this service, so the index has them as soon as each commit is answered."""
    code = experiment_code()
    word = "zq" + uuid.uuid4().hex[:10]  # a word no other notebook holds
    hidden = "zo" + uuid.uuid4().hex[:10]  # only in an output: never searched
    alpha = _notebook(f"# Alpha\n\nThe {word} fringes of {code}.", "x = 1", f"{hidden}\n")
    answers = {}
    for user, name, payload in [
        ("demo", "alpha", body(name="alpha", notebook=alpha, provenance={"run": 1},
                               metadata=metadata("Alpha calibration"))),
        ("demo", "alpha", body(name="alpha", notebook=alpha, metadata=metadata("Alpha calibration"),
                               message="second pass")),
        ("demo", "beta", body(name="beta", notebook=_notebook("# Beta", "y = 2", ""),
                              metadata={**metadata("Beta imaging"), "license": "MIT",
                                        "keywords": ["imaging"], "authors": [{"name": "Imre"}]})),
        ("second", "gamma", body(name="gamma", metadata=metadata("Gamma polarisation"))),
    ]:  # fmt: skip
        r = submit(reads.url, code, token(user), payload)
        assert r.status_code == 201, r.text
        answers.setdefault(name, []).append(r.json())
    return {"code": code, "word": word, "hidden": hidden, "answers": answers}


def _get(svc: ServiceProcess, path: str, **params: Any) -> requests.Response:
    return requests.get(svc.url + path, params=params, timeout=60)


def test_pages_of_one_walk_every_notebook(
    reads: ServiceProcess, archive: dict[str, Any], openapi: OpenAPI
) -> None:
    code = archive["code"]
    first = f"/api/v1/experiments/{code}/notebooks?limit=1"
    pages = walk(openapi, reads.url, LIST, "notebooks", first)
    assert [len(p) for p in pages] == [1, 1, 1]
    seen = [(n["owner"], n["name"], n["version"], n["legacy"]) for p in pages for n in p]
    assert seen == [
        ("demo", "alpha", 2, False),
        ("demo", "beta", 1, False),
        ("researcher2", "gamma", 1, False),
    ]
    alpha = pages[0][0]
    assert alpha["commit"] == archive["answers"]["alpha"][1]["commit"]
    assert alpha["permalink"] == archive["answers"]["alpha"][1]["permalink"]
    # the default page holds them all, and says so
    whole = openapi.check(LIST, "get", _get(reads, f"/api/v1/experiments/{code.lower()}/notebooks"))
    assert [n["name"] for n in whole["notebooks"]] == ["alpha", "beta", "gamma"]
    assert whole["next"] is None and whole["experiment"] == code


def test_versions_and_my_submissions_are_paged(
    reads: ServiceProcess, archive: dict[str, Any], openapi: OpenAPI, token: Callable[..., str]
) -> None:
    code, alpha = archive["code"], archive["answers"]["alpha"]
    url = f"/api/v1/experiments/{code}/notebooks/demo/alpha/versions?limit=1"
    pages = walk(openapi, reads.url, VERSIONS, "versions", url)
    versions = [v for p in pages for v in p]
    assert [(v["version"], v["commit"]) for v in versions] == [
        (2, alpha[1]["commit"]), (1, alpha[0]["commit"])
    ]  # fmt: skip
    assert versions[0]["message"] == "second pass"
    assert versions[1]["permalink"] == alpha[0]["permalink"]

    auth = {"headers": {"Authorization": "Bearer " + token("second")}}
    mine = [s for p in walk(openapi, reads.url, MINE, "submissions", MINE + "?limit=2", **auth)
            for s in p]  # fmt: skip
    assert {s["owner"] for s in mine} == {"researcher2"}
    assert ("researcher2/gamma", code) in {(s["folder"], s["experiment"]) for s in mine}
    updated = [s["updated"] for s in mine]
    assert updated == sorted(updated, reverse=True), "most recent first"
    first = requests.get(reads.url + MINE, params={"limit": 1}, timeout=60, **auth)
    assert openapi.check(MINE, "get", first)["submissions"][0]["updated"] == updated[0]


def test_search_finds_a_word_of_a_markdown_cell_and_says_why(
    reads: ServiceProcess, archive: dict[str, Any], openapi: OpenAPI
) -> None:
    word = archive["word"]
    hits = openapi.check(SEARCH, "get", _get(reads, SEARCH, q=word))["notebooks"]
    assert [(h["experiment"], h["folder"]) for h in hits] == [(archive["code"], "demo/alpha")]
    assert f"<mark>{word}</mark>" in hits[0]["snippet"]
    assert hits[0]["version"] == 2 and hits[0]["title"] == "Alpha calibration"
    # outputs are not searched; a word and a phrase of the title are
    assert openapi.check(SEARCH, "get", _get(reads, SEARCH, q=archive["hidden"]))["notebooks"] == []
    both = _get(reads, SEARCH, q='"Gamma polarisation"', experiment=archive["code"])
    assert [h["name"] for h in openapi.check(SEARCH, "get", both)["notebooks"]] == ["gamma"]


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        ({}, ["alpha", "beta", "gamma"]),
        ({"keyword": "IMAGING"}, ["beta"]),
        ({"license": "MIT"}, ["beta"]),
        ({"author": "second auth"}, ["alpha", "gamma"]),
        ({"orcid": "0000-0002-1825-0097"}, ["alpha", "gamma"]),
        ({"since": date.today().isoformat()}, ["alpha", "beta", "gamma"]),
        ({"until": (date.today() - timedelta(days=1)).isoformat()}, []),
        ({"q": "polarisation OR imaging"}, ["beta", "gamma"]),
    ],
)
def test_search_filters(
    reads: ServiceProcess,
    archive: dict[str, Any],
    openapi: OpenAPI,
    filters: dict[str, str],
    names: list[str],
) -> None:
    params = {"experiment": archive["code"].lower(), "sort": "title", **filters}
    pages = walk(openapi, reads.url, SEARCH, "notebooks", f"{SEARCH}?{urlencode(params)}&limit=2")
    hits = [h for p in pages for h in p]
    assert [h["name"] for h in hits] == names
    assert {h["experiment"] for h in hits} <= {archive["code"]}


def test_a_pinned_version_is_immutable_and_answers_304(
    reads: ServiceProcess, archive: dict[str, Any], openapi: OpenAPI
) -> None:
    code, first = archive["code"], archive["answers"]["alpha"][0]
    url = f"{reads.url}/api/v1/experiments/{code}/notebooks/demo/alpha"
    r = requests.get(url, params={"version": 1}, timeout=60)
    data = openapi.check(ONE, "get", r)
    assert (data["version"], data["commit"], data["provenance"]) == (1, first["commit"], {"run": 1})
    assert data["metadata"]["title"] == "Alpha calibration" and data["legacy"] is False
    assert data["notebook"]["cells"][0]["cell_type"] == "markdown"
    assert r.headers["ETag"] == f'"{first["commit"]}"'
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    again = requests.get(url, params={"version": 1}, headers={"If-None-Match": r.headers["ETag"]},
                         timeout=60)  # fmt: skip
    assert again.status_code == 304 and again.content == b""
    assert openapi.check(ONE, "get", again) is None
    other = requests.get(url, params={"version": 2}, headers={"If-None-Match": r.headers["ETag"]},
                         timeout=60)  # fmt: skip
    assert other.status_code == 200 and other.json()["version"] == 2

    latest = requests.get(url, timeout=60)
    assert openapi.check(ONE, "get", latest)["version"] == 2
    assert "ETag" not in latest.headers and latest.headers["Cache-Control"] == "no-store"


def test_reads_make_no_gitea_call(
    reads: ServiceProcess, archive: dict[str, Any], openapi: OpenAPI, gitea_proxy: TcpProxy,
    token: Callable[..., str],
) -> None:  # fmt: skip
    code = archive["code"]
    etag = f'"{archive["answers"]["alpha"][0]["commit"]}"'
    one = f"/api/v1/experiments/{code}/notebooks/demo/alpha"
    gitea_proxy.mode = "down"
    try:
        for template, path, params in [
            (LIST, f"/api/v1/experiments/{code}/notebooks", {}),
            (VERSIONS, one + "/versions", {}),
            (SEARCH, SEARCH, {"q": archive["word"]}),
        ]:
            r = _get(reads, path, **params)
            assert r.status_code == 200, f"{path}: {r.text}"
            assert openapi.check(template, "get", r)
        mine = requests.get(reads.url + MINE, headers={"Authorization": "Bearer " + token()},
                            timeout=60)  # fmt: skip
        assert mine.status_code == 200, mine.text
        cached = requests.get(reads.url + one, params={"version": 1},
                              headers={"If-None-Match": etag}, timeout=60)  # fmt: skip
        assert cached.status_code == 304, "the ETag is known without Gitea"
        body_needed = _get(reads, one, version=1)
        assert body_needed.status_code == 503, body_needed.text
        assert "unreachable" in openapi.check(ONE, "get", body_needed)["message"]
    finally:
        gitea_proxy.mode = "up"


@pytest.mark.parametrize(
    ("path", "params", "phrase"),
    [
        (LIST, {"limit": "0"}, "limit must be"),
        (LIST, {"limit": "101"}, "limit must be"),
        (LIST, {"limit": "ten"}, "limit must be"),
        (LIST, {"limit": "1.5"}, "limit must be"),
        (LIST, {"limit": "\u0662"}, "limit must be"),  # a digit, but not an ASCII one
        (LIST, {"cursor": "not a cursor!"}, "cursor"),
        (LIST, {"cursor": "bm90IGpzb24"}, "cursor"),  # base64 of "not json"
        (LIST, {"cursor": "WyJ4Il0"}, "cursor"),  # ["x"]: another listing's
        # well-formed, but numbers no database holds: ["experiment", "a", "b", 10**30]
        (
            LIST,
            {"cursor": "WyJleHBlcmltZW50IiwiYSIsImIiLDEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDBd"},
            "cursor",
        ),
        (
            SEARCH,
            {"q": "x", "cursor": "WyJyZWxldmFuY2UiLDEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDBd"},
            "cursor",
        ),
        (SEARCH, {"q": "a\x7fb"}, "control character"),  # tornado drops \x00-\x08 itself
        (VERSIONS, {"limit": "-1"}, "limit must be"),
        (VERSIONS, {"cursor": "%%%"}, "cursor"),
        (SEARCH, {"since": "2026-13-01"}, "since must be"),
        (SEARCH, {"until": "yesterday"}, "until must be"),
        (SEARCH, {"since": "9999-12-31T23:59:59-05:00"}, "since must be"),
        (SEARCH, {"since": "2026-02-01", "until": "2026-01-01"}, "since is after until"),
        (SEARCH, {"sort": "random"}, "sort must be"),
        (SEARCH, {"orcid": "0000-0002-1825-0098"}, "check digit"),
        (SEARCH, {"experiment": "../x"}, "not an EVN experiment code"),
        (SEARCH, {"license": "WTFPL"}, "license must be"),
        (SEARCH, {"q": "x" * 501}, "longer than"),
        (SEARCH, {"limit": "1000"}, "limit must be"),
        (ONE, {"version": "0"}, "version must be"),
        (ONE, {"version": "\u00b2"}, "version must be"),
        (ONE, {"version": "99999999999999999999"}, "version must be"),
    ],
)
def test_bad_paging_and_filters_are_400(
    reads: ServiceProcess,
    archive: dict[str, Any],
    openapi: OpenAPI,
    path: str,
    params: dict[str, str],
    phrase: str,
) -> None:
    url = path.format(code=archive["code"], owner="demo", name="alpha")
    r = _get(reads, url, **params)
    assert r.status_code == 400, r.text
    assert phrase in openapi.check(path, "get", r)["message"]


def test_a_cursor_of_another_listing_is_refused(
    reads: ServiceProcess, archive: dict[str, Any], openapi: OpenAPI
) -> None:
    code = archive["code"]
    first = _get(reads, f"/api/v1/experiments/{code}/notebooks/demo/alpha/versions", limit=1)
    cursor = openapi.check(VERSIONS, "get", first)["next_cursor"]
    r = _get(reads, f"/api/v1/experiments/{code}/notebooks", cursor=cursor)
    assert r.status_code == 400 and "cursor" in openapi.check(LIST, "get", r)["message"]


def test_unknown_experiment_and_notebook_are_404(
    reads: ServiceProcess, archive: dict[str, Any], openapi: OpenAPI
) -> None:
    other = experiment_code()
    r = _get(reads, f"/api/v1/experiments/{other}/notebooks")
    assert r.status_code == 404 and other in openapi.check(LIST, "get", r)["message"]
    code = archive["code"]
    for path, template in [
        (f"/api/v1/experiments/{code}/notebooks/demo/nothing", ONE),
        (f"/api/v1/experiments/{code}/notebooks/demo/nothing/versions", VERSIONS),
    ]:
        r = _get(reads, path)
        assert r.status_code == 404, r.text
        assert "not archived" in openapi.check(template, "get", r)["message"]
    r = _get(reads, f"/api/v1/experiments/{code}/notebooks/demo/alpha", version=3)
    assert r.status_code == 404 and "no version 3" in r.json()["message"]


def test_nobody_writes_as_legacy(
    reads: ServiceProcess, archive: dict[str, Any], token: Callable[..., str]
) -> None:
    r = submit(reads.url, archive["code"], token(), body(), path="/_legacy/alpha/versions")
    assert r.status_code == 403 and "read only" in r.json()["message"], r.text


def test_reads_answer_503_with_retry_after_until_the_index_opens(
    stack: dict[str, str], service_logs: Path, openapi: OpenAPI, tmp_path: Path
) -> None:
    nowhere = tmp_path / "missing-directory" / "index.sqlite"  # SQLite cannot create it
    url = f"sqlite:///{nowhere}"
    with ServiceProcess(stack, service_logs, "no-index", EVN_SERVICE_INDEX_URL=url) as svc:
        for template, path in [(SEARCH, SEARCH), (LIST, "/api/v1/experiments/EG078/notebooks")]:
            r = _get(svc, path)
            assert r.status_code == 503, r.text
            assert "index" in openapi.check(template, "get", r)["message"]
            assert int(r.headers["Retry-After"]) > 0
        assert requests.get(svc.url + "/api/v1/health", timeout=10).status_code == 200


def _push(svc: ServiceProcess, org: str, repo: str) -> requests.Response:
    """What Gitea's organisation webhook sends after a push into ``repo``, signed."""
    data = json.dumps({"ref": "refs/heads/master", "repository": {"full_name": f"{org}/{repo}"}})
    signature = hmac.new(SECRET.encode(), data.encode(), hashlib.sha256).hexdigest()
    headers = {"X-Gitea-Event": "push", "X-Gitea-Signature": signature,
               "Content-Type": "application/json"}  # fmt: skip
    return requests.post(svc.url + "/api/v1/hooks/gitea", data=data, headers=headers, timeout=30)


def test_legacy_notebooks_are_listed_and_readable(
    reads: ServiceProcess, openapi: OpenAPI, gitea: GiteaInspector
) -> None:
    """A repository of the portal's old layout (a notebook at the root of ``master``), indexed
    after Gitea's push webhook, reads as owner ``_legacy``."""
    code = experiment_code()
    created = gitea.session.post(
        f"{gitea.url}/api/v1/orgs/{gitea.org}/repos",
        json={"name": code, "auto_init": True, "default_branch": "master"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    old = _notebook(f"# Old reduction of {code}", "print('old')", "")
    put = gitea.session.post(
        f"{gitea.url}/api/v1/repos/{gitea.org}/{code}/contents/Old Reduction.ipynb",
        json={"content": base64.b64encode(json.dumps(old).encode()).decode(),
              "message": "the portal's upload", "branch": "master"},
        timeout=30,
    )  # fmt: skip
    assert put.status_code == 201, put.text
    hook = _push(reads, gitea.org, code)
    assert (
        hook.status_code == 202
        and code in openapi.check("/api/v1/hooks/gitea", "post", hook)["message"]
    )
    deadline = time.monotonic() + 60
    while (r := _get(reads, f"/api/v1/experiments/{code}/notebooks")).status_code == 404:
        assert time.monotonic() < deadline, "the webhook's reindex never came"
        time.sleep(0.5)
    (entry,) = openapi.check(LIST, "get", r)["notebooks"]
    assert (entry["owner"], entry["name"], entry["legacy"]) == ("_legacy", "old-reduction", True)
    assert (entry["folder"], entry["license"]) == ("Old Reduction.ipynb", "")
    assert entry["title"] == f"Old reduction of {code}"

    url = f"/api/v1/experiments/{code}/notebooks/_legacy/old-reduction"
    one = openapi.check(ONE, "get", _get(reads, url, version=1))
    assert one["legacy"] is True and one["metadata"] == {"title": entry["title"]}
    assert one["notebook"]["cells"][0]["source"] == old["cells"][0]["source"]
    versions = openapi.check(VERSIONS, "get", _get(reads, url + "/versions"))["versions"]
    assert [v["commit"] for v in versions] == [entry["commit"]]
    assert _get(reads, f"/api/v1/experiments/{code}/notebooks/_legacy/nothing").status_code == 404
    gitea.delete_repo(code)


def test_the_webhook_needs_its_signature(reads: ServiceProcess, openapi: OpenAPI) -> None:
    headers = {"X-Gitea-Event": "push", "X-Gitea-Signature": "0" * 64}
    r = requests.post(reads.url + "/api/v1/hooks/gitea", data=b"{}", headers=headers, timeout=30)
    assert (
        r.status_code == 401
        and "X-Gitea-Signature" in openapi.check("/api/v1/hooks/gitea", "post", r)["message"]
    )
