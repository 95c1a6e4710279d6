"""Which of Gitea's answers to a commit the archive retries, how long it waits, when it gives up.

The races themselves are produced for real in test_concurrency.py; this is the decision alone.
"""

from __future__ import annotations

import pytest
from evn_notebook_service.archive import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    MAX_SERVER_ERRORS,
    RetryPolicy,
)
from evn_notebook_service.errors import GiteaResponseError, UpstreamUnavailable


def _answer(status: int, message: str = "") -> GiteaResponseError:
    return GiteaResponseError(status, message, "POST", "/repos/EVN/X/contents")


LOST_RACES = [
    _answer(403, "cannot lock ref 'refs/heads/main'"),
    _answer(422, "sha does not match [given: a, expected: b]"),
    _answer(422, "repository file already exists [path: x]"),
    _answer(409, ""),
    _answer(500, ""),
    _answer(404, "The target couldn't be found."),  # a repository still being created
]


@pytest.mark.parametrize("answer", LOST_RACES, ids=lambda e: str(e.gitea_status))
def test_a_lost_race_is_retried_after_a_bounded_jittered_delay(answer) -> None:
    policy = RetryPolicy("EG078B", deadline_seconds=60)
    for attempt in range(1, 4):
        delay = policy.delay(answer, attempt)
        assert delay is not None
        assert 0 <= delay <= min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt)
    assert policy.delay(answer, 30) <= BACKOFF_MAX


@pytest.mark.parametrize(
    "answer",
    [_answer(403, "user does not have permission"), _answer(422, "invalid path"), _answer(401)],
    ids=lambda e: str(e.gitea_status),
)
def test_other_answers_are_not_retried(answer) -> None:
    assert RetryPolicy("EG078B", deadline_seconds=60).delay(answer, 1) is None


def test_only_a_few_server_errors_are_retried() -> None:
    policy = RetryPolicy("EG078B", deadline_seconds=60)
    for attempt in range(1, MAX_SERVER_ERRORS + 1):
        assert policy.delay(_answer(500), attempt) is not None
    assert policy.delay(_answer(500), MAX_SERVER_ERRORS + 1) is None


def test_past_the_deadline_the_caller_is_told_to_retry_with_the_same_key() -> None:
    policy = RetryPolicy("EG078B", deadline_seconds=-1)
    with pytest.raises(UpstreamUnavailable, match=r"EG078B is too busy.*same Idempotency-Key"):
        policy.delay(_answer(403, "cannot lock ref"), 1)
