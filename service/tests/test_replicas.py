"""Two replicas of the service on one PostgreSQL index, against the real stack: they agree.

What one replica commits, the other lists and finds at once (the write-through goes to the shared
index), and both still agree after rounds of their reconciles (which take turns under the index's
lease; the lease itself is tested in test_index_store.py). Runs when devstack runs PostgreSQL
(``EVN_DEVSTACK_POSTGRES=1``, as CI does), in a fresh database of its own, dropped afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from svc_api import body, experiment_code, submit
from svc_process import ServiceProcess, fresh_postgres_database

pytestmark = pytest.mark.stack

READY_SECONDS = 300  # each replica's first start indexes the whole organisation


@pytest.fixture(scope="module")
def shared_index(stack: dict[str, str]) -> Iterator[str]:
    if not stack.get("EVN_POSTGRES_TEST_URL"):
        pytest.skip("no PostgreSQL: run EVN_DEVSTACK_POSTGRES=1 python3 -m devstack up")
    with fresh_postgres_database(stack, "evn_replicas_") as url:
        yield url


def _ready(url: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while (
        requests.get(url + "/api/v1/notebooks", params={"limit": 1}, timeout=30).status_code != 200
    ):
        assert time.monotonic() < deadline, "the index never became ready"
        time.sleep(1)


def _listing(url: str, code: str) -> list[tuple[str, str, int]]:
    r = requests.get(f"{url}/api/v1/experiments/{code}/notebooks", timeout=30)
    assert r.status_code == 200, r.text
    return [(n["name"], n["commit"], n["version"]) for n in r.json()["notebooks"]]


def test_two_replicas_on_one_postgresql_agree(
    stack: dict[str, str], service_logs: Path, shared_index: str, token: Callable[..., str]
) -> None:
    settings = {"EVN_SERVICE_INDEX_URL": shared_index, "EVN_SERVICE_RECONCILE_SECONDS": "2"}
    with (
        ServiceProcess(stack, service_logs, "replica-a", **settings) as a,
        ServiceProcess(stack, service_logs, "replica-b", **settings) as b,
    ):
        _ready(a.url)
        _ready(b.url)
        code = experiment_code()
        made_a = submit(a.url, code, token(), body(name="from-a.ipynb"))
        assert made_a.status_code == 201, made_a.text
        made_b = submit(b.url, code, token(), body(name="from-b.ipynb"))
        assert made_b.status_code == 201, made_b.text
        again = submit(a.url, code, token(), body(name="from-b.ipynb"))  # a new version via a
        assert again.status_code == 201 and again.json()["version"] == 2, again.text
        expected = [
            ("from-a", made_a.json()["commit"], 1),
            ("from-b", again.json()["commit"], 2),
        ]
        # at once, without waiting for a reconcile: both read the one index
        assert _listing(a.url, code) == _listing(b.url, code) == expected
        for svc in (a, b):
            hits = requests.get(f"{svc.url}/api/v1/notebooks", params={"experiment": code},
                                timeout=30).json()["notebooks"]  # fmt: skip
            assert sorted(h["name"] for h in hits) == ["from-a", "from-b"]
        time.sleep(6)  # a few reconcile rounds of both replicas
        assert _listing(a.url, code) == _listing(b.url, code) == expected
        logs = a.logs() + b.logs()
    assert "Traceback" not in logs
