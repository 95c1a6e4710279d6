"""Idempotency records against the real stack: sharded, found at the old place, expiring.

A record is ``.evn/idempotency/<h[:2]>/<h>.json`` (``h = sha256(sub:key)``); one written before
the sharding (at ``.evn/idempotency/<h>.json``) still answers replays; a record older than
``idempotency_days`` answers none: the request becomes a new version. Old records are made the way
they would exist in a repository: a record aged through Gitea's contents API, and a submission
commit rewritten (amended and force-pushed) so that it holds its record at the old place.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from evn_notebook_service.idempotency import expired
from svc_api import GiteaInspector, body, submit
from svc_process import ServiceProcess

pytestmark = pytest.mark.stack

ROOT = ".evn/idempotency"


def _digest(gitea: GiteaInspector, code: str, name: str, key: str) -> str:
    """sha256(sub:key), the sub read from the notebook's state file (the token's ``sub``)."""
    state = gitea.raw(code, f".evn/notebooks/demo/{name}.json").json()
    return hashlib.sha256(f"{state['owner_sub']}:{key}".encode()).hexdigest()


def _sharded(h: str) -> str:
    return f"{ROOT}/{h[:2]}/{h}.json"


def _legacy(h: str) -> str:
    return f"{ROOT}/{h}.json"


def _aged(record: bytes, days: float) -> bytes:
    data = json.loads(record)
    then = datetime.now(timezone.utc) - timedelta(days=days)
    data["created"] = then.replace(microsecond=0).isoformat()
    return json.dumps(data, indent=1).encode()


def _put(gitea: GiteaInspector, code: str, path: str, old: bytes, new: bytes) -> None:
    """Replace the file ``path`` (bytes ``old``) by ``new`` in one commit, as Gitea's admin."""
    sha = hashlib.sha1(b"blob %d\0" % len(old) + old, usedforsecurity=False).hexdigest()
    r = gitea.session.put(
        f"{gitea.url}/api/v1/repos/{gitea.org}/{code}/contents/{quote(path)}",
        json={"content": base64.b64encode(new).decode(), "sha": sha, "message": "age a record"},
        timeout=30,
    )
    assert r.status_code == 200, r.text


def _record_at_old_place(
    stack: dict[str, str], gitea: GiteaInspector, code: str, h: str, tmp: Path, age: float = 0
) -> str:
    """Rewrite the last commit so its record sits unsharded (aged ``age`` days), as a service
    before the sharding wrote it; force-pushed. Returns the rewritten commit's id."""
    auth = f"{stack['EVN_GITEA_ADMIN_USER']}:{stack['EVN_GITEA_ADMIN_TOKEN']}@"
    url = gitea.url.replace("://", "://" + auth, 1) + f"/{gitea.org}/{code}.git"
    clone = tmp / code

    def git(*args: str) -> str:
        ident = ["-c", "user.name=EVN notebook service", "-c", "user.email=svc@evn.invalid"]
        done = subprocess.run(["git", *ident, "-C", str(clone), *args],
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout.strip()

    subprocess.run(["git", "clone", "-q", url, str(clone)], check=True)
    sharded, legacy = clone / _sharded(h), clone / _legacy(h)
    legacy.write_bytes(_aged(sharded.read_bytes(), age) if age else sharded.read_bytes())
    git("rm", "-q", _sharded(h))
    git("add", _legacy(h))
    git("commit", "-q", "--amend", "--no-edit")
    git("push", "-q", "--force", "origin", "HEAD:main")
    return git("rev-parse", "HEAD")


def _first(service: ServiceProcess, code: str, token: str, key: str) -> dict[str, Any]:
    r = submit(service.url, code, token, body(name="records"), key)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_record_is_sharded_by_its_hash(
    service: ServiceProcess, token: Callable[..., str], gitea: GiteaInspector, code: str
) -> None:
    key = str(uuid.uuid4())
    first = _first(service, code, token(), key)
    h = _digest(gitea, code, "records", key)
    record = gitea.raw(code, _sharded(h))
    assert record.status_code == 200, "the record is at .evn/idempotency/<h[:2]>/<h>.json"
    assert record.json()["version"] == 1 and record.json()["created"]
    assert gitea.raw(code, _legacy(h)).status_code == 404
    records = [p for p in gitea.tree(code) if p.startswith(ROOT + "/")]
    assert records == [_sharded(h)], "no record directly in .evn/idempotency/"
    again = submit(service.url, code, token(), body(name="records"), key)
    assert again.status_code == 200 and again.json() == {**first, "created": False}


def test_a_record_at_the_old_place_still_replays(
    stack: dict[str, str],
    service: ServiceProcess,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
    tmp_path: Path,
) -> None:
    key = str(uuid.uuid4())
    first = _first(service, code, token(), key)
    h = _digest(gitea, code, "records", key)
    commit = _record_at_old_place(stack, gitea, code, h, tmp_path)
    assert gitea.raw(code, _sharded(h)).status_code == 404
    commits = gitea.commit_count(code)

    again = submit(service.url, code, token(), body(name="records"), key)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 1 and again.json()["created"] is False
    assert again.json()["commit"] == commit != first["commit"]  # the commit holding the record
    assert gitea.commit_count(code) == commits, "a replay writes nothing"
    other = submit(service.url, code, token(), body(name="records", message="else"), key)
    assert other.status_code == 409, "the old record's fingerprint still guards its key"


def _submitted_and_aged(
    service: ServiceProcess, gitea: GiteaInspector, code: str, tok: str, key: str, days: int
) -> int:
    """Submit "records" with ``key``, make its record ``days`` old; the commit count after."""
    _first(service, code, tok, key)
    h = _digest(gitea, code, "records", key)
    old = gitea.raw(code, _sharded(h)).content
    _put(gitea, code, _sharded(h), old, _aged(old, days))
    return gitea.commit_count(code)


def test_an_expired_record_makes_the_request_a_new_version(
    stack: dict[str, str],
    service: ServiceProcess,
    service_logs: Path,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
) -> None:
    key = str(uuid.uuid4())
    commits = _submitted_and_aged(service, gitea, code, token(), key, days=40)

    # a service keeping records 60 days: 40 days old still replays, nothing written
    with ServiceProcess(stack, service_logs, "days60", EVN_SERVICE_IDEMPOTENCY_DAYS="60") as svc:
        kept = submit(svc.url, code, token(), body(name="records"), key)
    assert kept.status_code == 200 and kept.json()["version"] == 1, kept.text
    assert gitea.commit_count(code) == commits

    # the default 30 days: the same request is a new submission, the record replaced
    new = submit(service.url, code, token(), body(name="records"), key)
    assert new.status_code == 201, new.text
    assert new.json()["version"] == 2 and new.json()["created"] is True
    assert gitea.commit_count(code) == commits + 1
    record = gitea.raw(code, _sharded(_digest(gitea, code, "records", key))).json()
    assert record["version"] == 2 and not expired(json.dumps(record).encode(), 30)

    # within the period again: the new version's answer, nothing written
    again = submit(service.url, code, token(), body(name="records"), key)
    assert again.status_code == 200, again.text
    assert again.json() == {**new.json(), "created": False}
    assert gitea.commit_count(code) == commits + 1


def test_an_expired_record_at_the_old_place_moves_to_the_sharded_one(
    stack: dict[str, str],
    service: ServiceProcess,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
    tmp_path: Path,
) -> None:
    key = str(uuid.uuid4())
    _first(service, code, token(), key)
    h = _digest(gitea, code, "records", key)
    _record_at_old_place(stack, gitea, code, h, tmp_path, age=31)

    new = submit(service.url, code, token(), body(name="records", message="again"), key)
    assert new.status_code == 201 and new.json()["version"] == 2, new.text
    assert gitea.raw(code, _legacy(h)).status_code == 404, "deleted in the same commit"
    assert gitea.raw(code, _sharded(h)).json()["version"] == 2


def test_two_replicas_replaying_an_expired_key_commit_once(
    stack: dict[str, str],
    service: ServiceProcess,
    service_logs: Path,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
) -> None:
    key = str(uuid.uuid4())
    commits = _submitted_and_aged(service, gitea, code, token(), key, days=45)
    with ServiceProcess(stack, service_logs, "replica") as other, ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda url: submit(url, code, token(), body(name="records"), key),
                [service.url, other.url],
            )
        )
    # usually one commits (201) and the other replays it (200); when both build their commit in
    # the same second from the same parent, the two commits are the same object (same tree,
    # parent, author, time) and Gitea takes the second push as a no-op: both answer 201 naming
    # that one commit. Either way: one commit, one version, one answer.
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([200, 201], [201, 201]), [a.text for a in answers]
    assert {a.json()["version"] for a in answers} == {2}
    assert len({a.json()["commit"] for a in answers}) == 1
    assert gitea.commit_count(code) == commits + 1


@pytest.mark.parametrize(
    ("created", "days", "is_expired"),
    [
        (timedelta(days=29, hours=23), 30, False),
        (timedelta(days=30, minutes=1), 30, True),
        (timedelta(days=400), 0, False),  # 0: records never expire
        (timedelta(hours=2), 1 / 24, True),  # fractions of a day
    ],
)
def test_expiry_against_an_injected_now(created: timedelta, days: float, is_expired: bool) -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    raw = json.dumps({"created": (now - created).isoformat()}).encode()
    assert expired(raw, days, now) is is_expired


@pytest.mark.parametrize("raw", [b"{}", b'{"created": "yesterday"}', b'{"created": 5}', b"[1]"])
def test_a_record_without_a_readable_time_never_expires(raw: bytes) -> None:
    assert expired(raw, 30, datetime(2100, 1, 1, tzinfo=timezone.utc)) is False


def test_a_record_from_the_api_parses() -> None:
    """The ``created`` the archive writes (isoformat, seconds, UTC) is what ``expired`` reads."""
    created = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    later = datetime.now(timezone.utc) + timedelta(days=31)
    assert expired(json.dumps({"created": created}).encode(), 30, later) is True
