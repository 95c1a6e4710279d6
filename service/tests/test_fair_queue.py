"""The fair per-experiment queue (``locks.py``, ``Archive._write``), against the real Gitea.

A small submission queued behind a big one to the same experiment goes next and finishes within
its deadline; one whose deadline passes in the queue gets 503 with Retry-After, having written
nothing; and the experiment's lock is free while a submission backs off after a lost race.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from evn_notebook_service.archive import Archive
from evn_notebook_service.auth import Identity
from evn_notebook_service.config import ServiceConfig
from evn_notebook_service.fetch import Response
from evn_notebook_service.gitea import GiteaClient
from evn_notebook_service.locks import Busy, KeyedLocks
from evn_notebook_service.submission import parse_submission
from svc_api import GiteaInspector, body, notebook, submit
from svc_process import STACK_KEYS, ServiceProcess
from tornado.httputil import HTTPHeaders

BIG_MB = 30


def _big_notebook() -> dict[str, Any]:
    """About ``BIG_MB`` MB: one figure of incompressible bytes (Gitea stores it whole)."""
    image = base64.b64encode(os.urandom(BIG_MB * 3 * 1024 * 1024 // 4)).decode()
    nb = notebook("plot()")
    output = {"output_type": "display_data", "metadata": {}, "data": {"image/png": image}}
    nb["cells"][0]["outputs"] = [output]
    return nb


def test_waiters_go_in_order_and_one_past_its_deadline_is_refused_with_retry_after() -> None:
    async def run() -> tuple[list[int], Busy, int]:
        locks = KeyedLocks()
        order: list[int] = []

        async def user(i: int, seconds: float) -> None:
            async with locks.hold("EG078B"):
                order.append(i)
                await asyncio.sleep(seconds)

        first = asyncio.ensure_future(user(0, 0.3))
        await asyncio.sleep(0)
        queued = [asyncio.ensure_future(user(i, 0.01)) for i in range(1, 6)]
        await asyncio.sleep(0)
        started = time.monotonic()
        with pytest.raises(Busy) as refused:
            async with locks.hold("EG078B", deadline=started + 0.1):
                order.append(-1)
        assert time.monotonic() - started < 0.25
        await asyncio.gather(first, *queued)
        async with locks.hold("EG078B", deadline=time.monotonic() - 5):  # free: taken at once
            order.append(6)
        return order, refused.value, len(locks)

    order, busy, left = asyncio.run(run())
    assert order == [0, 1, 2, 3, 4, 5, 6]
    assert busy.status == 503 and 1 <= busy.retry_after <= 300
    assert busy.message.startswith("the experiment EG078B is busy with other submissions; ")
    assert f"try again in {busy.retry_after} s" in busy.message
    assert left == 0  # no lock kept once nobody holds or waits


def _lock_taken(svc: ServiceProcess, code: str, timeout: float = 120) -> None:
    """Wait until the service logs that it holds ``code``'s lock (its first holder)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in svc.logs().splitlines():
            if '"lock taken"' in line and f'"key": "{code}"' in line:
                return
        time.sleep(0.05)
    raise AssertionError(f"the service never took {code}'s lock:\n{svc.logs()[-3000:]}")


def _in_background(job: Callable[[], requests.Response]) -> tuple[threading.Thread, list[Any]]:
    """Run ``job`` in a thread; ``out`` gets its answer and when it came."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.extend((job(), time.monotonic())), daemon=True)
    thread.start()
    return thread, out


def _big_then_small(
    svc: ServiceProcess, code: str, token: Callable[..., str], small_key: str
) -> tuple[requests.Response, requests.Response, float]:
    """A big submission; once it holds the experiment's lock, a small one. Both answers, and
    how long before the big one's answer the small one's came (negative: after it)."""
    big_payload = json.dumps(body(name="big", notebook=_big_notebook())).encode()
    thread, big = _in_background(lambda: submit(svc.url, code, token(), big_payload, timeout=600))
    _lock_taken(svc, code)
    small = submit(svc.url, code, token(), body(name="small"), small_key, timeout=300)
    small_done = time.monotonic()
    thread.join(600)
    return big[0], small, big[1] - small_done


@pytest.mark.stack
@pytest.mark.timeout(900)
def test_a_small_submission_behind_a_big_one_goes_next_within_its_deadline(
    stack: dict[str, str],
    service_logs: Path,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
) -> None:
    deadline = 120
    with ServiceProcess(
        stack,
        service_logs,
        "fair-queue",
        EVN_SERVICE_LOG_LEVEL="DEBUG",
        EVN_SERVICE_WRITE_DEADLINE_SECONDS=str(deadline),
    ) as svc:
        big, small, ahead = _big_then_small(svc, code, token, str(uuid.uuid4()))
    assert big.status_code == 201, big.text
    assert small.status_code == 201, small.text
    assert ahead < 0  # it waited for the big one's commit, then went
    log = gitea.api(f"/repos/{gitea.org}/{code}/commits", limit=3, stat="false").json()
    # newest first: the small one was committed right after the big one, which it queued behind
    assert [c["sha"] for c in log[:2]] == [small.json()["commit"], big.json()["commit"]]
    assert (big.json()["version"], small.json()["version"]) == (1, 1)


@pytest.mark.stack
@pytest.mark.timeout(900)
def test_a_submission_whose_deadline_passes_in_the_queue_gets_503_and_writes_nothing(
    stack: dict[str, str],
    service_logs: Path,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
) -> None:
    key = str(uuid.uuid4())
    with ServiceProcess(
        stack,
        service_logs,
        "fair-queue-tiny",
        EVN_SERVICE_LOG_LEVEL="DEBUG",
        EVN_SERVICE_WRITE_DEADLINE_SECONDS="1",
    ) as svc:
        big, small, ahead = _big_then_small(svc, code, token, key)
        assert big.status_code == 201, big.text
        assert small.status_code == 503, small.text
        assert ahead > 0  # refused at its deadline, before the big commit was done
        message = small.json()["message"]
        assert f"experiment {code} is busy with other submissions" in message
        retry_after = int(small.headers["Retry-After"])
        assert 1 <= retry_after <= 300
        assert f"try again in {retry_after} s" in message
        assert gitea.commit_count(code) == 2  # the repository's first commit and the big one
        assert not any(p.startswith("demo/small/") for p in gitea.tree(code))
        # the same request again, now that the experiment is free: committed once
        again = submit(svc.url, code, token(), body(name="small"), key)
        assert again.status_code == 201, again.text
        assert gitea.commit_count(code) == 3


def _config(stack: dict[str, str], mp: pytest.MonkeyPatch) -> ServiceConfig:
    for name in STACK_KEYS:
        mp.setenv(name, stack[name])
    return ServiceConfig()


@pytest.mark.stack
def test_the_lock_is_free_while_a_submission_backs_off_after_a_lost_race(
    stack: dict[str, str], code: str, gitea: GiteaInspector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gitea's first answer to the commit is a lost race (409, faked at the HTTP boundary); the
    back-off (1 s here) sleeps without the experiment's lock, and the next attempt takes it
    again: it waits while another holder has it."""
    import evn_notebook_service.archive as archive_module

    monkeypatch.setattr(archive_module.random, "uniform", lambda a, b: 1.0)
    config = _config(stack, monkeypatch)

    async def run() -> dict[str, Any]:
        archive = Archive(config, GiteaClient(config))
        real = archive.gitea.fetcher.fetch
        commits: list[tuple[float, int]] = []
        lost = asyncio.Event()

        async def fetch(method: str, url: str, **kw: Any) -> Response:
            if method == "POST" and url.endswith("/contents"):
                if not commits:
                    commits.append((time.monotonic(), 409))
                    lost.set()
                    race = b'{"message": "sha does not match"}'
                    return Response(409, race, HTTPHeaders())
                answer = await real(method, url, **kw)
                commits.append((time.monotonic(), answer.code))
                return answer
            return await real(method, url, **kw)

        archive.gitea.fetcher.fetch = fetch  # type: ignore[method-assign]
        who = Identity(sub=str(uuid.uuid4()), username="demo", name="Demo", email="d@example.org")
        sub = parse_submission([bytearray(json.dumps(body(name="raced")).encode())], 10**8)
        task = asyncio.ensure_future(archive.submit(who, code, "demo", sub, str(uuid.uuid4())))
        await lost.wait()
        asked = time.monotonic()
        async with archive.locks.hold(code, deadline=asked + 0.5):  # Busy if it were held
            taken = time.monotonic() - asked
            await asyncio.sleep(1.5)  # past the back-off: the next attempt waits for us
            released = time.monotonic()
        result = await task
        await archive.gitea.aclose()
        assert taken < 0.3
        assert [code for _, code in commits] == [409, 201]
        assert commits[1][0] > released
        return result

    result = asyncio.run(run())
    assert result["created"] is True and result["version"] == 1
    assert gitea.commit_count(code) == 2  # the repository's first commit and this one
