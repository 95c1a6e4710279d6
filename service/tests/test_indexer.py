"""Gitea → index against the real Gitea: write-through, webhooks, reconcile, rebuild, legacy.

Each test has its own SQLite index, copied from one index of the whole organisation built once
per module (so a service's reconcile reads only what changed since, not every repository).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from evn_notebook_service.archive import Archive
from evn_notebook_service.auth import Identity
from evn_notebook_service.config import ServiceConfig
from evn_notebook_service.gitea import GiteaClient
from evn_notebook_service.hooks import signature_ok
from evn_notebook_service.index import (
    LEGACY_OWNER,
    Index,
    NotebookRecord,
    SearchQuery,
    VersionRecord,
)
from evn_notebook_service.indexer import Indexer
from evn_notebook_service.locks import KeyedLocks
from evn_notebook_service.submission import parse_submission
from svc_api import GiteaInspector, OpenAPI, body, notebook, submit
from svc_process import STACK_KEYS, ServiceProcess

T = TypeVar("T")
SECRET = "indexer-test-secret"
HOOK = "/api/v1/hooks/gitea"
LIST = "/api/v1/experiments/{code}/notebooks"
READERS = 4


def _config(stack: dict[str, str], mp: pytest.MonkeyPatch) -> ServiceConfig:
    for key in ("EVN_ISSUER_URL", "EVN_GITEA_URL", "EVN_GITEA_ORG", "EVN_GITEA_TOKEN"):
        mp.setenv(key, stack[key])
    return ServiceConfig()


def _with_indexer(config: ServiceConfig, url: str, job: Callable[[Indexer], Awaitable[T]]) -> T:
    """Run ``job`` with an in-process indexer over the index at ``url`` (migrated first)."""

    async def run() -> T:
        index = Index(url)
        try:
            await asyncio.to_thread(index.migrate)
            return await job(Indexer(config, GiteaClient(config), index))
        finally:
            index.dispose()

    return asyncio.run(run())


def _read(url: str, call: Callable[[Index], T]) -> T:
    index = Index(url)
    try:
        return call(index)
    finally:
        index.dispose()


def _items(url: str, code: str) -> list[dict[str, Any]]:
    return _read(url, lambda i: i.experiment_page(code, 100, None).items)


def _until(what: Callable[[], T], timeout: float, step: float = 0.5) -> T:
    """``what()`` once it is truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(step)


@pytest.fixture(scope="module")
def warm_index(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the whole organisation, reconciled once."""
    path = tmp_path_factory.mktemp("warm-index") / "index.sqlite"
    with pytest.MonkeyPatch.context() as mp:
        _with_indexer(_config(stack, mp), f"sqlite:///{path}", lambda ix: ix.reconcile())
    return path


@pytest.fixture
def index_url(warm_index: Path, tmp_path: Path) -> str:
    """This test's own index: a copy of the warm one."""
    target = tmp_path / "index.sqlite"
    source, copy = sqlite3.connect(warm_index), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return f"sqlite:///{target}"


def _service(stack: dict[str, str], logs: Path, name: str, url: str, **env: str) -> ServiceProcess:
    """A service process of its own over the index at ``url``; no reconcile unless asked."""
    settings = {"EVN_SERVICE_INDEX_URL": url, "EVN_SERVICE_RECONCILE_SECONDS": "0", **env}
    return ServiceProcess(stack, logs, name, **settings)


def _signed(payload: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def _push(org: str, code: str) -> bytes:
    return json.dumps(
        {"ref": "refs/heads/main", "repository": {"full_name": f"{org}/{code}", "name": code}}
    ).encode()


@pytest.fixture
def org_hook(gitea: GiteaInspector) -> Iterator[Callable[[str], None]]:
    """Registers organisation push webhooks (signed with SECRET); deleted afterwards."""
    made: list[int] = []

    def add(target: str) -> None:
        hook = {"type": "gitea", "events": ["push"], "active": True,
                "config": {"url": target, "content_type": "json", "secret": SECRET}}  # fmt: skip
        r = gitea.session.post(f"{gitea.url}/api/v1/orgs/{gitea.org}/hooks", json=hook, timeout=30)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])

    yield add
    for hook_id in made:
        gitea.session.delete(f"{gitea.url}/api/v1/orgs/{gitea.org}/hooks/{hook_id}", timeout=30)


# --- write-through ---------------------------------------------------------------------------


@pytest.mark.stack
def test_write_through_makes_a_submission_visible_at_once(
    stack: dict[str, str], service_logs: Path, index_url: str, token: Callable[..., str], code: str
) -> None:
    word = "zq" + code.lower()
    prov = {"kernel": "python3", "packages": {"numpy": "2.1.0"}}
    payload = body(name="wt.ipynb", notebook=notebook(f"print('{word}')"), provenance=prov)
    with _service(stack, service_logs, "write-through", index_url) as svc:
        first = submit(svc.url, code, token(), payload)
        assert first.status_code == 201, first.text
        listed = requests.get(svc.url + LIST.format(code=code), timeout=30)  # no wait, no retry
        assert listed.status_code == 200, listed.text
        [summary] = listed.json()["notebooks"]
        assert summary["commit"] == first.json()["commit"] and summary["version"] == 1
        second = submit(svc.url, code, token(), body(name="wt.ipynb", message="Second pass"))
        assert second.status_code == 201, second.text
        [item] = _items(index_url, code)
        assert (item["version"], item["commit"]) == (2, second.json()["commit"])
    one = _read(index_url, lambda i: i.notebook_version(code, "demo/wt", 1))
    assert one is not None and one[1]["provenance"] == prov
    assert one[1]["commit"] == first.json()["commit"]
    two = _read(index_url, lambda i: i.notebook_version(code, "demo/wt", 2))
    assert two is not None and two[1]["message"] == "Second pass" and two[1]["provenance"] is None
    # the text is the latest version's: the first version's word is gone from the search
    hits = _read(index_url, lambda i: i.search(SearchQuery(q=word), 10, None).items)
    assert not [h for h in hits if h["experiment"] == code]


# --- webhooks --------------------------------------------------------------------------------


@pytest.mark.stack
def test_signed_webhook_reindexes_unsigned_or_wrongly_signed_is_401_and_changes_nothing(
    stack: dict[str, str],
    service_logs: Path,
    service: ServiceProcess,
    openapi: OpenAPI,
    index_url: str,
    token: Callable[..., str],
    code: str,
) -> None:
    # a commit this service never saw: another service made it, and no webhook announced it
    made = submit(service.url, code, token(), body(name="hooked.ipynb"))
    assert made.status_code == 201, made.text
    payload = _push(stack["EVN_GITEA_ORG"], code)
    with _service(
        stack, service_logs, "webhook", index_url, EVN_SERVICE_WEBHOOK_SECRET=SECRET
    ) as svc:
        hook = svc.url + HOOK
        for signature in (None, "0" * 64, _signed(payload, "another secret"), "not hex"):
            headers = {"X-Gitea-Event": "push", "Content-Type": "application/json"}
            if signature is not None:
                headers["X-Gitea-Signature"] = signature
            r = requests.post(hook, data=payload, headers=headers, timeout=30)
            assert r.status_code == 401, r.text
            assert "X-Gitea-Signature" in openapi.check(HOOK, "post", r)["message"]
        time.sleep(3)  # longer than a scheduled reindex would wait before starting
        assert _items(index_url, code) == []
        assert code not in svc.logs()

        ok = {"X-Gitea-Event": "push", "X-Gitea-Signature": _signed(payload)}
        r = requests.post(hook, data=payload, headers=ok, timeout=30)
        assert r.status_code == 202, r.text
        assert code in openapi.check(HOOK, "post", r)["message"]
        [item] = _until(lambda: _items(index_url, code), 60)
        assert item["commit"] == made.json()["commit"] and item["folder"] == "demo/hooked"

        for bad in (b"{not json", b"[" * 5000 + b"]" * 5000):  # nested too deep for a parser
            signed_bad = {**ok, "X-Gitea-Signature": _signed(bad)}
            r = requests.post(hook, data=bad, headers=signed_bad, timeout=30)
            assert r.status_code == 400 and openapi.check(HOOK, "post", r)["message"]
        ping = json.dumps({"zen": "hello"}).encode()
        signed_ping = {"X-Gitea-Event": "ping", "X-Gitea-Signature": _signed(ping)}
        r = requests.post(hook, data=ping, headers=signed_ping, timeout=30)
        assert r.status_code == 202 and "ignored" in openapi.check(HOOK, "post", r)["message"]
    # without a secret the route is off
    r = requests.post(service.url + HOOK, data=payload, headers=ok, timeout=30)
    assert r.status_code == 404 and openapi.check(HOOK, "post", r)["message"]


@pytest.mark.stack
def test_gitea_delivers_a_push_and_the_service_reindexes(
    stack: dict[str, str],
    service_logs: Path,
    service: ServiceProcess,
    index_url: str,
    token: Callable[..., str],
    code: str,
    org_hook: Callable[[str], None],
) -> None:
    with _service(
        stack, service_logs, "delivered", index_url, EVN_SERVICE_WEBHOOK_SECRET=SECRET
    ) as svc:
        org_hook(svc.url + HOOK)
        made = submit(service.url, code, token(), body(name="delivered.ipynb"))
        assert made.status_code == 201, made.text
        [item] = _until(lambda: _items(index_url, code), 90)
        assert item["commit"] == made.json()["commit"]
        assert '"reindexed"' in svc.logs()


@pytest.mark.stack
def test_a_push_of_its_own_commit_is_not_read_again_another_one_is(
    stack: dict[str, str],
    service_logs: Path,
    index_url: str,
    token: Callable[..., str],
    code: str,
    gitea: GiteaInspector,
    org_hook: Callable[[str], None],
) -> None:
    """Each submission used to cost a reindex (its whole repository read from Gitea, under the
    experiment's lock) a second after its commit, when Gitea's webhook announced it; the
    write-through had indexed it already. A commit made past the service is still read."""
    with _service(
        stack, service_logs, "own-push", index_url, EVN_SERVICE_WEBHOOK_SECRET=SECRET
    ) as svc:
        org_hook(svc.url + HOOK)
        made = submit(svc.url, code, token(), body(name="own.ipynb"))
        assert made.status_code == 201, made.text
        own = [x for x in svc.logs().splitlines() if "push already indexed" in x and code in x]
        _until(lambda: own or [x for x in svc.logs().splitlines()
                               if "push already indexed" in x and code in x], 60)  # fmt: skip
        assert not [x for x in svc.logs().splitlines() if '"reindexed"' in x and code in x]
        content = base64.b64encode(b"elsewhere\n").decode()
        r = gitea.session.post(
            f"{gitea.url}/api/v1/repos/{gitea.org}/{code}/contents",
            json={"files": [{"operation": "create", "path": "NOTES.md", "content": content}],
                  "message": "a commit the service did not make"},
            timeout=60,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        _until(lambda: [x for x in svc.logs().splitlines() if '"reindexed"' in x and code in x], 60)


def test_a_push_listed_in_part_or_without_commits_is_read() -> None:
    from evn_notebook_service.hooks import _pushed_commits

    one = {"id": "a" * 40}
    assert _pushed_commits({"commits": [one], "total_commits": 1}) == ["a" * 40]
    assert _pushed_commits({"commits": [one]}) == ["a" * 40]
    assert _pushed_commits({"commits": [one], "total_commits": 30}) is None  # truncated
    assert _pushed_commits({"commits": []}) is None
    assert _pushed_commits({"commits": [{"id": 5}]}) is None
    assert _pushed_commits({}) is None


def test_a_burst_of_webhooks_for_one_repository_is_one_reindex() -> None:
    class Counting(Indexer):
        async def reindex_repo(self, experiment: str) -> int:
            calls.append(experiment)
            return 0

    calls: list[str] = []

    async def burst() -> None:
        indexer = Counting(ServiceConfig(), None, None)  # type: ignore[arg-type]
        for _ in range(5):
            indexer.schedule("t1234ab")
        indexer.schedule("T5678CD")
        await asyncio.sleep(2)
        indexer.schedule("T1234AB")  # after the reindex started: once more
        await asyncio.sleep(2)
        await indexer.close()

    asyncio.run(burst())
    assert calls == ["T1234AB", "T5678CD", "T1234AB"]


def test_signature_check() -> None:
    data = b'{"a": 1}'
    good = hmac.new(b"s", data, hashlib.sha256).hexdigest()
    assert signature_ok("s", data, good) and signature_ok("s", data, good.upper())
    assert not signature_ok("s", data + b" ", good)
    assert not signature_ok("", data, good) and not signature_ok("s", data, None)


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.stack
def test_reconcile_picks_up_a_commit_no_webhook_announced(
    stack: dict[str, str],
    service_logs: Path,
    service: ServiceProcess,
    index_url: str,
    token: Callable[..., str],
    code: str,
) -> None:
    with _service(
        stack, service_logs, "reconciling", index_url, EVN_SERVICE_RECONCILE_SECONDS="3"
    ) as svc:
        made = submit(service.url, code, token(), body(name="unannounced.ipynb"))
        assert made.status_code == 201, made.text
        [item] = _until(lambda: _items(index_url, code), 120)
        assert item["commit"] == made.json()["commit"]
        # the row is written before the reconcile logs its summary: wait for the line too
        assert _until(lambda: '"reconciled"' in svc.logs(), 30)


@pytest.mark.stack
def test_a_deleted_index_is_rebuilt_and_reads_meanwhile_are_503_or_right(
    stack: dict[str, str],
    service_logs: Path,
    index_url: str,
    token: Callable[..., str],
    code: str,
) -> None:
    path = Path(index_url.removeprefix("sqlite:///"))
    with _service(stack, service_logs, "rebuilding", index_url) as svc:
        made = submit(svc.url, code, token(), body(name="survivor.ipynb"))
        assert made.status_code == 201, made.text
        url = svc.url + LIST.format(code=code)
        path.unlink()
        seen: list[int] = []
        deadline = time.monotonic() + 300
        with ThreadPoolExecutor(READERS) as pool:
            # answers from connections opened before the deletion are the old file's (right);
            # done once a 503 was seen and the rebuilt file answers every reader
            while not (503 in seen and path.exists() and seen[-READERS:] == [200] * READERS):
                answers = list(pool.map(lambda _: requests.get(url, timeout=30), range(READERS)))
                for r in answers:  # readers at once, as a busy service has them
                    seen.append(r.status_code)
                    if r.status_code == 503:
                        assert r.headers.get("Retry-After") and r.json()["message"]
                    else:
                        assert r.status_code == 200, r.text
                        commits = [n["commit"] for n in r.json()["notebooks"]]
                        assert commits == [made.json()["commit"]]
                assert time.monotonic() < deadline, seen[-20:]
                time.sleep(0.2)
    assert path.exists()
    assert "rebuilding it from Gitea" in svc.logs()


@pytest.mark.stack
def test_a_crash_between_the_commit_and_the_index_loses_nothing_after_a_reconcile(
    stack: dict[str, str],
    index_url: str,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
    gitea: GiteaInspector,
) -> None:
    config = _config(stack, monkeypatch)

    class Crashing:
        locks = KeyedLocks()

        async def committed(self, *args: object) -> None:
            raise RuntimeError("the process died between the commit and the index write")

    async def submit_then_crash() -> dict[str, Any]:
        archive = Archive(config, GiteaClient(config), indexer=Crashing())  # type: ignore[arg-type]
        who = Identity(sub=str(uuid.uuid4()), username="demo", name="Demo", email="d@example.org")
        raw = bytearray(json.dumps(body(name="crashed.ipynb")).encode())
        sub = parse_submission([raw], config.max_notebook_bytes)
        return await archive.submit(who, code, "demo", sub, str(uuid.uuid4()))

    result = asyncio.run(submit_then_crash())
    assert result["created"] is True  # the submission itself did not fail
    assert gitea.commit_count(code) >= 2
    assert _items(index_url, code) == []
    done = _with_indexer(config, index_url, lambda ix: ix.reconcile())
    assert done is not None and done["failed"] == 0
    [item] = _items(index_url, code)
    assert (item["folder"], item["commit"], item["version"]) == (
        "demo/crashed",
        result["commit"],
        1,
    )


@pytest.mark.stack
def test_a_reindex_takes_the_text_of_a_notebook_it_wrote_through_without_reading_it(
    stack: dict[str, str], index_url: str, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reindex after a submission (a commit made past the service, the reconcile) read and
    parsed every latest notebook again for its text; the write-through's text is now kept by
    the notebook's blob id. A notebook the process never wrote is still read."""
    config = _config(stack, monkeypatch)
    read: list[str] = []

    class Counting(GiteaClient):
        async def raw(self, repo: str, path: str, ref: str | None = None) -> bytes | None:
            read.append(path)
            return await super().raw(repo, path, ref)

    async def run() -> None:
        index = Index(index_url)
        try:
            await asyncio.to_thread(index.migrate)
            indexer = Indexer(config, Counting(config), index)
            archive = Archive(config, indexer.gitea, indexer=indexer)
            who = Identity(sub=str(uuid.uuid4()), username="demo", name="Demo", email="d@x.org")
            raw = bytearray(json.dumps(body(name="kept.ipynb")).encode())
            sub = parse_submission([raw], config.max_notebook_bytes)
            await archive.submit(who, code, "demo", sub, str(uuid.uuid4()))
            read.clear()
            assert await indexer.reindex_repo(code) == 1
            assert "demo/kept/kept.ipynb" not in read, read
            fresh = Indexer(config, Counting(config), index)  # another process: reads it
            assert await fresh.reindex_repo(code) == 1
            assert "demo/kept/kept.ipynb" in read
        finally:
            index.dispose()

    asyncio.run(run())


# --- legacy ----------------------------------------------------------------------------------


def _legacy_notebook(heading: str | None, word: str) -> str:
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": f"print('{word}')"}]  # fmt: skip
    if heading:
        cells.insert(0, {"cell_type": "markdown", "metadata": {}, "source": f"# {heading}\n"})
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 2}
    return base64.b64encode(json.dumps(nb).encode()).decode()


@pytest.fixture
def legacy_repo(gitea: GiteaInspector, code: str) -> Iterator[str]:
    """A repository of the portal's old layout: branch master, notebooks at the root, no .evn/."""
    api = f"{gitea.url}/api/v1"
    repo = {"name": code, "auto_init": True, "default_branch": "master"}
    r = gitea.session.post(f"{api}/orgs/{gitea.org}/repos", json=repo, timeout=30)
    assert r.status_code == 201, r.text
    files = f"{api}/repos/{gitea.org}/{code}/contents"

    def write(path: str, content: str, sha: str | None = None) -> str:
        change = {"content": content, "message": f"portal: {path}", "branch": "master"}
        if sha:
            r = gitea.session.put(f"{files}/{path}", json={**change, "sha": sha}, timeout=30)
        else:
            r = gitea.session.post(f"{files}/{path}", json=change, timeout=30)
        assert r.status_code in (200, 201), r.text
        return str(r.json()["content"]["sha"])

    blob = write("Old Calibration.ipynb", _legacy_notebook("First title", "alpha"))
    write("Old Calibration.ipynb", _legacy_notebook("Calibration of EG078B", "omega"), blob)
    write("notes.ipynb", _legacy_notebook(None, "notes"))
    write("sub/inner.ipynb", _legacy_notebook("Not at the root", "inner"))
    yield code
    gitea.delete_repo(code)


@pytest.mark.stack
def test_a_legacy_repository_is_indexed_as_legacy_entries(
    stack: dict[str, str], index_url: str, legacy_repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = legacy_repo
    count = _with_indexer(_config(stack, monkeypatch), index_url, lambda ix: ix.reindex_repo(code))
    assert count == 2
    items = {i["folder"]: i for i in _items(index_url, code)}
    assert set(items) == {"Old Calibration.ipynb", "notes.ipynb"}
    old = items["Old Calibration.ipynb"]
    assert (old["owner"], old["name"], old["legacy"]) == (LEGACY_OWNER, "old-calibration", True)
    assert (old["title"], old["license"], old["version"]) == ("Calibration of EG078B", "", 2)
    assert old["notebook_path"] == "Old Calibration.ipynb"
    assert items["notes.ipynb"]["title"] == "notes.ipynb"  # no heading: the file's name
    first = _read(index_url, lambda i: i.notebook_version(code, "Old Calibration.ipynb", 1))
    assert first is not None and first[1]["metadata"] == {"title": "First title"}
    hits = _read(index_url, lambda i: i.search(SearchQuery(q="omega", experiment=code), 10, None))
    assert [h["folder"] for h in hits.items] == ["Old Calibration.ipynb"]


@pytest.mark.stack
def test_an_unreadable_state_file_costs_only_that_notebooks_metadata(
    stack: dict[str, str],
    index_url: str,
    gitea: GiteaInspector,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = f"{gitea.url}/api/v1"
    repo = {"name": code, "auto_init": True, "default_branch": "main"}
    assert gitea.session.post(f"{api}/orgs/{gitea.org}/repos", json=repo, timeout=30).ok
    try:
        files = [
            {"operation": "create", "path": path, "content": base64.b64encode(data).decode()}
            for path, data in ((".evn/notebooks/demo/broken.json", b"{not json"),
                               ("demo/broken/broken.ipynb", b"{}"))
        ]  # fmt: skip
        change = {"files": files, "message": "by hand", "branch": "main"}
        r = gitea.session.post(f"{api}/repos/{gitea.org}/{code}/contents", json=change, timeout=30)
        assert r.status_code == 201, r.text
        config = _config(stack, monkeypatch)
        assert _with_indexer(config, index_url, lambda ix: ix.reindex_repo(code)) == 1
        [item] = _items(index_url, code)
        assert (item["folder"], item["title"], item["version"]) == ("demo/broken", "broken", 1)
    finally:
        gitea.delete_repo(code)


# --- the command line ------------------------------------------------------------------------


@pytest.mark.stack
def test_reindex_command_rebuilds_the_index_and_says_what_it_holds(
    stack: dict[str, str], index_url: str
) -> None:
    stray = NotebookRecord(
        experiment="T0000GONE", owner="demo", name="stray", folder="demo/stray",
        notebook_path="demo/stray/stray.ipynb", title="Not in Gitea", description="",
        authors=[], license="", keywords=[], version=1, commit="0" * 40,
        updated="2020-01-01T00:00:00Z", owner_sub=None, legacy=False, text="",
    )  # fmt: skip
    version = VersionRecord(1, "0" * 40, "2020-01-01T00:00:00Z", "", {"title": "x"}, None)
    _read(index_url, lambda i: i.put_version(stray, version))
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVN_")}
    env.update({k: stack[k] for k in STACK_KEYS}, EVN_SERVICE_INDEX_URL=index_url)
    command = [sys.executable, "-m", "evn_notebook_service", "reindex"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    said = re.fullmatch(
        r"indexed (\d+) repositories, (\d+) notebooks, (\d+) versions in [\d.]+ s\n", done.stdout
    )
    assert said, done.stdout
    counts = _read(index_url, lambda i: i.counts())
    assert [int(n) for n in said.groups()] == [
        counts["repositories"], counts["notebooks"], counts["versions"]
    ]  # fmt: skip
    assert counts["notebooks"] > 0
    assert _items(index_url, "T0000GONE") == []  # rebuilt from Gitea alone

    del env["EVN_GITEA_TOKEN"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "EVN_GITEA_TOKEN" in refused.stderr
