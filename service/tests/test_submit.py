"""A real submission, end to end: Keycloak token → service → one Gitea commit, as documented."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable

import pytest
import requests
from svc_api import GiteaInspector, OpenAPI, body, metadata, notebook, submit
from svc_process import ServiceProcess

pytestmark = pytest.mark.stack

SUBMIT = "/api/v1/experiments/{code}/notebooks"
ONE = "/api/v1/experiments/{code}/notebooks/{owner}/{name}"
VERSIONS = ONE + "/versions"


def test_health_and_openapi(service: ServiceProcess, openapi: OpenAPI) -> None:
    r = requests.get(service.url + "/api/v1/health", timeout=10)
    assert openapi.check("/api/v1/health", "get", r)["status"] == "ok"
    assert openapi.doc["openapi"].startswith("3.1")
    assert SUBMIT in openapi.doc["paths"]


def test_submit_commits_once_as_the_researcher(
    service: ServiceProcess,
    openapi: OpenAPI,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
    tmp_path,
) -> None:
    prov = {"kernel": "python3", "packages": {"numpy": "2.1.0"}, "execution_order": [1]}
    payload = body(name="calibration.ipynb", message="First reduction", provenance=prov)
    key = str(uuid.uuid4())
    r = submit(service.url, code, token(), payload, key)
    assert r.status_code == 201, r.text
    result = openapi.check(SUBMIT, "post", r)
    assert result["created"] is True and result["version"] == 1
    assert result["folder"] == "demo/calibration" and result["experiment"] == code
    assert result["submitter"]["username"] == "demo"
    assert (
        f"/src/commit/{result['commit']}/demo/calibration/calibration.ipynb" in result["permalink"]
    )
    assert requests.get(result["permalink"], timeout=30).status_code == 200

    files = set(gitea.tree(code))
    for path in ("calibration.ipynb", "ro-crate-metadata.json", "provenance.json"):
        assert f"demo/calibration/{path}" in files
    assert any(p.startswith(".evn/idempotency/") for p in files)
    stored = gitea.raw(code, "demo/calibration/calibration.ipynb").json()
    assert stored["cells"][0]["source"] == payload["notebook"]["cells"][0]["source"]
    assert gitea.raw(code, "demo/calibration/provenance.json").json() == prov
    crate = gitea.raw(code, "demo/calibration/ro-crate-metadata.json").json()
    root = {e["@id"]: e for e in crate["@graph"]}["./"]
    assert root["name"] == payload["metadata"]["title"] and root["version"] == "1"

    commits = gitea.commit_count(code)
    assert commits == 2  # the repository's initial commit + this submission
    subprocess.run(
        ["git", "clone", "-q", f"{gitea.url}/{gitea.org}/{code}.git", str(tmp_path / "c")],
        check=True,
    )
    log = subprocess.run(
        ["git", "-C", str(tmp_path / "c"), "log", "-1", "--format=%H|%an|%ae|%cn|%s"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    sha, an, ae, cn, subject = log.split("|")
    assert sha == result["commit"]
    assert (an, ae) == (result["submitter"]["name"], result["submitter"]["email"])
    assert an == "Demo Researcher" and cn == "EVN notebook service"
    assert subject == "First reduction"

    # the same key again: the first answer, no new commit
    again = submit(service.url, code, token(), payload, key)
    assert again.status_code == 200
    replay = openapi.check(SUBMIT, "post", again)
    assert replay == {**result, "created": False}
    assert gitea.commit_count(code) == commits

    # the same key with another body is refused, nothing written
    other = submit(service.url, code, token(), body(name="calibration"), key)
    assert other.status_code == 409 and "different submission" in other.json()["message"]
    assert gitea.commit_count(code) == commits


def test_resubmission_is_a_new_version_and_only_the_owner_may(
    service: ServiceProcess,
    openapi: OpenAPI,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
) -> None:
    first = submit(service.url, code, token(), body(name="fringe", provenance={"run": 1}))
    assert first.status_code == 201, first.text
    nb2 = notebook("print('second version')")
    second = submit(service.url, code, token(), body(name="fringe", notebook=nb2))
    assert second.status_code == 201, second.text
    v2 = openapi.check(SUBMIT, "post", second)
    assert v2["version"] == 2 and v2["commit"] != first.json()["commit"]
    assert "demo/fringe/provenance.json" not in gitea.tree(code), "stale provenance removed"

    nb3 = notebook("print('third, through versions')")
    third = submit(service.url, code, token(), {"notebook": nb3, "metadata": metadata()},
                   path="/demo/fringe/versions")  # fmt: skip
    assert third.status_code == 201 and third.json()["version"] == 3, third.text

    before = gitea.commit_count(code)
    theirs = submit(service.url, code, token("second"), body(), path="/demo/fringe/versions")
    assert theirs.status_code == 403, theirs.text
    assert "only its owner" in openapi.check(VERSIONS, "post", theirs)["message"]
    missing = submit(service.url, code, token(), body(), path="/demo/nothing-here/versions")
    assert missing.status_code == 404
    assert gitea.commit_count(code) == before

    # a second researcher's notebook of the same name is theirs, in their own folder
    own = submit(service.url, code, token("second"), body(name="fringe"))
    assert own.status_code == 201 and own.json()["folder"] == "researcher2/fringe", own.text

    # the read side
    listing = requests.get(f"{service.url}/api/v1/experiments/{code.lower()}/notebooks", timeout=30)
    data = openapi.check(SUBMIT, "get", listing)
    assert [(n["owner"], n["name"], n["version"]) for n in data["notebooks"]] == [
        ("demo", "fringe", 3),
        ("researcher2", "fringe", 1),
    ]
    assert data["notebooks"][0]["commit"] == third.json()["commit"]
    assert data["next"] is None and not any(n["legacy"] for n in data["notebooks"])
    assert data["notebooks"][0]["authors"][0]["orcid"] == "https://orcid.org/0000-0002-1825-0097"

    url = f"{service.url}/api/v1/experiments/{code}/notebooks/demo/fringe"
    latest = openapi.check(ONE, "get", requests.get(url, timeout=30))
    assert (
        latest["version"] == 3
        and latest["notebook"]["cells"][0]["source"] == nb3["cells"][0]["source"]
    )
    old = openapi.check(ONE, "get", requests.get(url, params={"version": 1}, timeout=30))
    assert old["version"] == 1 and old["provenance"] == {"run": 1}
    assert old["commit"] == first.json()["commit"]
    assert requests.get(url, params={"version": 9}, timeout=30).status_code == 404

    versions = openapi.check(VERSIONS, "get", requests.get(url + "/versions", timeout=30))
    assert [v["version"] for v in versions["versions"]] == [3, 2, 1] and versions["next"] is None
    assert [v["commit"] for v in versions["versions"]] == [
        third.json()["commit"], v2["commit"], first.json()["commit"]
    ]  # fmt: skip

    mine = requests.get(
        service.url + "/api/v1/me/submissions",
        headers={"Authorization": "Bearer " + token("second")},
        timeout=60,
    )
    subs = openapi.check("/api/v1/me/submissions", "get", mine)["submissions"]
    assert any(s["experiment"] == code and s["folder"] == "researcher2/fringe" for s in subs)
    assert all(s["owner"] == "researcher2" for s in subs)


def test_reads_of_what_does_not_exist_are_404(
    service: ServiceProcess, openapi: OpenAPI, code: str
) -> None:
    r = requests.get(f"{service.url}/api/v1/experiments/{code}/notebooks", timeout=30)
    assert r.status_code == 404 and code in openapi.check(SUBMIT, "get", r)["message"]
    r = requests.get(f"{service.url}/api/v1/experiments/{code}/notebooks/demo/x", timeout=30)
    assert r.status_code == 404
    r = requests.get(f"{service.url}/api/v1/experiments/{code}/notebooks/demo/..%2f..", timeout=30)
    assert r.status_code in (400, 404)


def test_logs_carry_request_ids_and_never_a_token(
    service: ServiceProcess, token: Callable[..., str], code: str
) -> None:
    tok = token()
    rid = "test-" + uuid.uuid4().hex[:12]
    r = requests.post(
        f"{service.url}/api/v1/experiments/{code}/notebooks",
        data=json.dumps(body()),
        headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json",
                 "Idempotency-Key": str(uuid.uuid4()), "X-Request-Id": rid},
        timeout=60,
    )  # fmt: skip
    assert r.status_code == 201 and r.headers["X-Request-Id"] == rid
    deadline = time.monotonic() + 10  # the access line is written just after the answer
    while True:
        lines = [json.loads(line) for line in service.logs().splitlines() if line.startswith("{")]
        mine = [entry for entry in lines if entry.get("request_id") == rid]
        if any(e.get("status") == 201 for e in mine) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert any(e.get("status") == 201 for e in mine)
    assert any(e.get("message") == "committed" for e in mine)
    assert tok not in service.logs() and tok.split(".")[2] not in service.logs()
