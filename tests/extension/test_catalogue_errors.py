"""The catalogue's two errors as the service client reads them on any call, the submission
included (docs/catalogue.md): an unknown experiment keeps its close codes, and a catalogue that
cannot answer is a 503 with Retry-After, not retried (the service already waited out its own time
limit), where another 503 is retried and then reported as the archive's failure (502). The command
line takes the first as a refusal and the second as "try again"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakeservice import FakeService

from jupyterlab_evn_submit.cli.exitcodes import REJECTED, UNAVAILABLE, outcome
from jupyterlab_evn_submit.client import ServiceClient
from jupyterlab_evn_submit.errors import (
    CatalogueUnavailable,
    ServiceError,
    UnknownExperiment,
    to_http_error,
)

PATH = "/experiments/EG078C/notebooks"


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeService() as fake:
        yield fake


@pytest.fixture
def client(service: FakeService) -> ServiceClient:
    return ServiceClient(service.url, timeout=5, backoff=0.01)


async def test_an_unknown_experiment_keeps_its_close_codes(service, client):
    body = {"message": "EG078C is not known.", "error": "UnknownExperiment"}
    service.answer(PATH, body | {"suggestions": ["EG078B"]}, status=404)
    with pytest.raises(UnknownExperiment) as caught:
        await client.submit("EG078C", b"{}", "key-1", "token")
    answer = to_http_error(caught.value)
    assert answer.status_code == 404 and answer.log_message == "EG078C is not known."
    assert answer.fields == {"error": "UnknownExperiment", "suggestions": ["EG078B"]}
    assert [s.method for s in service.requests_to(PATH)] == ["POST"]


async def test_a_catalogue_that_cannot_answer_is_not_asked_again(service, client):
    body = {"message": "The catalogue did not answer.", "error": "CatalogueUnavailable"}
    service.answer(PATH, body, status=503, headers={"Retry-After": "60"})
    with pytest.raises(CatalogueUnavailable) as caught:
        await client.submit("EG078C", b"{}", "key-2", "token")
    answer = to_http_error(caught.value)
    assert answer.status_code == 503 and answer.headers == {"Retry-After": "60"}
    assert answer.log_message == "The catalogue did not answer."
    assert len(service.requests_to(PATH)) == 1


async def test_another_503_is_retried_and_reported_as_the_archives_failure(service, client):
    service.answer(PATH, {"message": "busy"}, status=503, headers={"Retry-After": "5"})
    with pytest.raises(ServiceError) as caught:
        await client.submit("EG078C", b"{}", "key-3", "token")
    assert caught.value.status == 502 and not caught.value.fields
    assert len(service.requests_to(PATH)) == 3


def test_the_command_line_says_rejected_or_retry_for_them():
    unknown = outcome(UnknownExperiment("EG078C is not known.", ["EG078B"]))
    assert unknown.code == REJECTED and "EG078C is not known." in unknown.message
    down = outcome(CatalogueUnavailable(None, retry_after="60"))
    assert down.code == UNAVAILABLE
    assert down.message == CatalogueUnavailable.default_message
