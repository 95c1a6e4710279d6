"""Abuse limits: sliding windows per researcher (fake clock), then a real service with small limits.

The unit tests drive ``quota.py`` with a clock the test moves; the stack tests run a service
process with ``max_new_repositories=2`` and ``max_submissions=3`` against the devstack Gitea and
check what a researcher sees: 429 with ``Retry-After``, nothing written, replays still answered.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from evn_notebook_service.config import ServiceConfig
from evn_notebook_service.errors import TooManyRequests
from evn_notebook_service.quota import SWEEP_FLOOR, Quotas
from svc_api import GiteaInspector, body, experiment_code, submit
from svc_process import ServiceProcess


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def quotas(
    repos: int = 2, repo_window: float = 86400, subs: int = 3, sub_window: float = 3600
) -> tuple[Quotas, FakeClock]:
    config = ServiceConfig(
        max_new_repositories=repos,
        new_repository_window_seconds=repo_window,
        max_submissions=subs,
        submission_window_seconds=sub_window,
    )
    clock = FakeClock()
    return Quotas(config, clock), clock


def test_the_window_slides_and_retry_after_counts_down_to_the_oldest_event() -> None:
    q, clock = quotas(subs=3, sub_window=100)
    for t in (0, 10, 20):
        clock.now = 1000 + t
        q.ticket("ada").reserve()
    clock.now = 1030.5
    with pytest.raises(TooManyRequests) as refused:
        q.ticket("ada").reserve()
    assert refused.value.retry_after == 70  # 1000 + 100 - 1030.5 = 69.5, rounded up
    assert "3 submissions per 100 seconds" in refused.value.message
    assert "max_submissions" in refused.value.message and "70 s" in refused.value.message
    clock.now = 1099.9
    with pytest.raises(TooManyRequests) as refused:
        q.ticket("ada").reserve()
    assert refused.value.retry_after == 1  # never 0
    clock.now = 1100  # the event of t=0 has left the window
    q.ticket("ada").reserve()
    with pytest.raises(TooManyRequests) as refused:
        q.ticket("ada").reserve()
    assert refused.value.retry_after == 10  # now the event of t=10 is the oldest


def test_researchers_are_counted_apart() -> None:
    q, _ = quotas(subs=1)
    q.ticket("ada").reserve()
    q.ticket("bob").reserve()
    with pytest.raises(TooManyRequests):
        q.ticket("ada").reserve()


def test_zero_turns_a_limit_off() -> None:
    q, _ = quotas(repos=0, subs=0)
    for _ in range(500):
        q.ticket("ada").reserve(repository=True)
    assert q.submissions.tracked() == q.repositories.tracked() == 0


def test_a_released_reservation_is_given_back() -> None:
    q, _ = quotas(subs=1)
    ticket = q.ticket("ada")
    ticket.reserve()
    ticket.release("submission")
    ticket.release("submission")  # twice is harmless
    q.ticket("ada").reserve()
    with pytest.raises(TooManyRequests):
        q.ticket("ada").reserve()


def test_a_new_repository_counts_for_both_and_nothing_is_taken_when_one_is_full() -> None:
    q, _ = quotas(repos=2, subs=3)
    q.ticket("ada").reserve(repository=True)
    q.ticket("ada").reserve(repository=True)
    with pytest.raises(TooManyRequests) as refused:
        q.ticket("ada").reserve(repository=True)
    assert "2 new experiment repositories per 1 day" in refused.value.message
    assert refused.value.retry_after == 86400
    # the refused request took no submission: one is left for an existing repository
    q.ticket("ada").reserve()
    with pytest.raises(TooManyRequests) as refused:
        q.ticket("ada").reserve()
    assert "max_submissions" in refused.value.message


def test_a_ticket_takes_its_submission_once() -> None:
    """A submission reserved with its repository is not taken again before the commit."""
    q, _ = quotas(repos=5, subs=2)
    ticket = q.ticket("ada")
    ticket.reserve(repository=True)
    ticket.reserve()
    ticket.reserve(repository=True)
    q.ticket("ada").reserve()  # the second of two submissions: still free
    assert len(q.repositories._events["ada"]) == 1


def test_memory_stays_bounded_with_many_researchers() -> None:
    q, clock = quotas(subs=5, sub_window=60)
    for i in range(10 * SWEEP_FLOOR):
        q.ticket(f"user-{i}").reserve()
        clock.now += 0.1  # ~100 s in all: older researchers leave the window
    assert q.submissions.tracked() < 2 * SWEEP_FLOOR
    clock.now += 61
    q.ticket("late").reserve()
    q.ticket("later").reserve()
    assert q.submissions.tracked() <= 2 * SWEEP_FLOOR


def test_parallel_submissions_cannot_pass_the_limit_together() -> None:
    """20 submissions at once, each awaiting its "commit" after reserving: 3 get through; the
    failed ones give their place back."""
    q, _ = quotas(subs=3)

    async def one(fail: bool) -> str:
        ticket = q.ticket("ada")
        try:
            ticket.reserve()
            await asyncio.sleep(0.01)  # the commit
            if fail:
                raise RuntimeError("Gitea failed")
        except TooManyRequests:
            return "429"
        except RuntimeError:
            ticket.release("submission")
            return "failed"
        return "ok"

    async def run() -> list[str]:
        first = await asyncio.gather(*(one(fail=i < 2) for i in range(20)))
        return list(first) + list(await asyncio.gather(*(one(False) for _ in range(5))))

    results = asyncio.run(run())
    assert results[:20].count("ok") == 1 and results[:20].count("failed") == 2
    assert results[:20].count("429") == 17
    assert results[20:].count("ok") == 2  # the failed two were given back
    assert results[20:].count("429") == 3


# -- a real service with small limits --------------------------------------------------------


@pytest.fixture
def limited(stack: dict[str, str], service_logs: Path) -> Iterator[ServiceProcess]:
    with ServiceProcess(
        stack,
        service_logs,
        "quota",
        EVN_SERVICE_MAX_NEW_REPOSITORIES="2",
        EVN_SERVICE_NEW_REPOSITORY_WINDOW_SECONDS="86400",
        EVN_SERVICE_MAX_SUBMISSIONS="3",
        EVN_SERVICE_SUBMISSION_WINDOW_SECONDS="3600",
    ) as proc:
        yield proc


@pytest.fixture
def codes(gitea: GiteaInspector) -> Iterator[list[str]]:
    made = [experiment_code() for _ in range(8)]
    yield made
    for code in made:
        gitea.delete_repo(code)


def _refused(r: requests.Response, setting: str) -> int:
    assert r.status_code == 429, r.text
    assert setting in r.json()["message"]
    retry_after = int(r.headers["Retry-After"])
    return retry_after


@pytest.mark.stack
def test_beyond_the_limits_a_429_and_nothing_written_but_replays_answer(
    limited: ServiceProcess,
    token: Callable[..., str],
    gitea: GiteaInspector,
    codes: list[str],
) -> None:
    a, b, c = codes[:3]
    key = str(uuid.uuid4())
    first = submit(limited.url, a, token(), body(name="one"), key)
    assert first.status_code == 201, first.text
    assert submit(limited.url, b, token(), body(name="one")).status_code == 201

    # a third new experiment: refused before Gitea sees anything
    third = submit(limited.url, c, token(), body(name="one"))
    assert 86000 < _refused(third, "max_new_repositories") <= 86400
    assert not gitea.repo_exists(c)

    # the replay of the first submission is answered, not counted
    replay = submit(limited.url, a, token(), body(name="one"), key)
    assert replay.status_code == 200 and replay.json() == {**first.json(), "created": False}

    # the refused third took no submission: one is left, into an existing repository
    commits = gitea.commit_count(a)
    assert submit(limited.url, a, token(), body(name="two")).status_code == 201
    fourth = submit(limited.url, a, token(), body(name="three"))
    assert 3500 < _refused(fourth, "max_submissions") <= 3600
    assert gitea.commit_count(a) == commits + 1
    assert "three" not in " ".join(gitea.tree(a))

    # at the limit, a replay is still answered (and another researcher is not limited)
    assert submit(limited.url, a, token(), body(name="one"), key).status_code == 200
    assert submit(limited.url, a, token("second"), body(name="other")).status_code == 201


@pytest.mark.stack
def test_parallel_new_experiments_create_at_most_the_limit(
    limited: ServiceProcess,
    token: Callable[..., str],
    gitea: GiteaInspector,
    codes: list[str],
) -> None:
    tok = token()
    with ThreadPoolExecutor(len(codes)) as pool:
        answers = list(
            pool.map(lambda code: submit(limited.url, code, tok, body(name="race")), codes)
        )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201, 201] + [429] * (len(codes) - 2), [r.text for r in answers]
    created = [code for code in codes if gitea.repo_exists(code)]
    assert sorted(created) == sorted(
        code for code, r in zip(codes, answers, strict=True) if r.status_code == 201
    )
