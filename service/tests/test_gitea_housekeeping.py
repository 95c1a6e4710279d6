"""Gitea's scheduled garbage collection (devstack's app.ini), against the real Gitea.

Without it every version of a notebook stays in the repository as a whole, loose object; ``git gc``
packs them and stores a version as a delta against its neighbour. The task must be enabled with a
schedule (Gitea lists a disabled task without one), and a run must leave a repository holding
several versions of a big notebook packed, and much smaller, on disk.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
import time
from pathlib import Path

import pytest
import requests
from svc_api import GiteaInspector, notebook

from devstack import gitea as devstack_gitea

pytestmark = pytest.mark.stack

VERSIONS = 4
GC_SECONDS = 600  # the task runs over every repository of the devstack Gitea, oldest first
RUN_AGAIN = 30  # a run asked for while one is under way is dropped: ask again now and then


def _big_notebook(seed: int, version: int) -> dict:
    """~1.5 MB: one incompressible image output shared by all versions, and a cell that changes."""
    image = base64.b64encode(random.Random(seed).randbytes(1_100_000)).decode()
    nb = notebook(f"print('version {version}')")
    nb["cells"][0]["outputs"] = [
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": image}}
    ]
    return nb


def _commit_versions(gitea: GiteaInspector, code: str) -> None:
    """A repository of the organisation and ``VERSIONS`` commits of one big notebook, each
    through Gitea's contents API as the service commits them."""
    api = f"{gitea.url}/api/v1"
    made = gitea.session.post(f"{api}/orgs/{gitea.org}/repos", json={"name": code}, timeout=120)
    assert made.status_code == 201, made.text
    seed, sha = random.randrange(1 << 30), None
    for version in range(1, VERSIONS + 1):
        content = json.dumps(_big_notebook(seed, version), indent=1).encode()
        change = {"content": base64.b64encode(content).decode(), "message": f"v{version}"}
        if sha:
            change["sha"] = sha
        url = f"{api}/repos/{gitea.org}/{code}/contents/big.ipynb"
        r = gitea.session.request("PUT" if sha else "POST", url, json=change, timeout=120)
        assert r.status_code in (200, 201), r.text
        sha = r.json()["content"]["sha"]


def _objects(repo: Path) -> dict[str, int]:
    out = subprocess.run(
        ["git", "-C", str(repo), "count-objects", "-v"], capture_output=True, text=True, check=True
    ).stdout
    return {k: int(v) for k, v in (line.split(": ") for line in out.splitlines())}


def _cron(stack: dict[str, str], method: str, path: str = "") -> requests.Response:
    return requests.request(
        method,
        f"{stack['EVN_GITEA_URL']}/api/v1/admin/cron{path}",
        headers={"Authorization": "token " + stack["EVN_GITEA_ADMIN_TOKEN"]},
        params={"limit": 50},
        timeout=120,  # the machine may be busy: a slow answer is not what this tests
    )


def test_gc_is_scheduled(stack: dict[str, str]) -> None:
    r = _cron(stack, "GET")
    assert r.status_code == 200, r.text
    tasks = {t["name"]: t for t in r.json()}
    assert tasks["git_gc_repos"]["schedule"] == "@every 24h", "enabled, once a day"


def test_a_gc_run_packs_the_versions_of_a_notebook(
    request: pytest.FixtureRequest, stack: dict[str, str], gitea: GiteaInspector, code: str
) -> None:
    request.addfinalizer(lambda: gitea.delete_repo(code))
    repo = devstack_gitea.HOME / "repositories" / gitea.org.lower() / f"{code.lower()}.git"
    _commit_versions(gitea, code)
    assert repo.is_dir(), f"{repo}: not the devstack Gitea's repository folder"
    before = _objects(repo)
    assert before["count"] > 0, "the contents API leaves its objects loose"
    assert before["size"] > VERSIONS * 1000, "each version stored whole (KiB)"

    start = time.monotonic()
    asked = -float(RUN_AGAIN)
    while (after := _objects(repo))["count"] > 0:
        assert time.monotonic() < start + GC_SECONDS, f"not packed after {GC_SECONDS} s: {after}"
        if time.monotonic() - asked >= RUN_AGAIN:  # a run already under way may be past it
            assert _cron(stack, "POST", "/git_gc_repos").status_code == 204
            asked = time.monotonic()
        time.sleep(1)
    assert after["packs"] >= 1
    assert after["size-pack"] < before["size"] / 2, f"versions stored as deltas: {before} {after}"
    fsck = subprocess.run(["git", "-C", str(repo), "fsck", "--no-progress"], capture_output=True)
    assert fsck.returncode == 0, fsck.stderr
