"""``GET evn-submit/observation?experiment=CODE``: what the archive's catalogue knows of an
experiment, asked as the code is typed in the form (docs/catalogue.md, "Extension and panel").
The notebook service is faked at the wire (tests/fakeservice.py): its answers are passed on —
200, 404 with ``suggestions``, 503 with Retry-After — and a malformed code never reaches it.
The real service behind the same route: ui-tests/tests/catalogue.spec.ts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from evnhelpers import body_of, get
from fakeservice import FakeService

PATH = "/experiments/EG078B/observation"
OBSERVATION = {
    "experiment": "EG078B",
    "catalogued": True,
    "targets": [
        {"name": "J0927+3902", "ra": 141.7625, "dec": 39.0392},
        {"name": "3C 345", "ra": 250.745, "dec": 39.8103},
    ],
    "start": "2019-03-02T10:00:00Z",
    "end": "2019-03-02T22:00:00Z",
    "public": True,
    "public_from": "2020-03-01T22:00:00Z",
    "products": [{"did": "ivo://evn/EG078B#1", "access_url": "https://archive.test/EG078B.tgz"}],
}


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeService() as fake:
        yield fake


@pytest.fixture
def evn_config(evn_config: dict[str, Any], service: FakeService) -> dict[str, Any]:
    return evn_config | {"service_url": service.url}


async def test_an_observation_is_passed_on_as_the_service_answers_it(jp_fetch, service, actions):
    service.answer(PATH, OBSERVATION)
    r = await get(jp_fetch, "observation", params={"experiment": "eg078b"})
    assert r.code == 200, r.body
    assert body_of(r) == OBSERVATION
    [seen] = service.requests_to(PATH)  # the canonical code, asked once
    assert "Authorization" not in seen.headers  # public: no login, no token
    assert actions.tokens.oidc.token_requests == 0


async def test_a_code_out_of_the_catalogue_says_so(jp_fetch, service):
    path = "/experiments/UT1234A/observation"
    service.answer(path, {"experiment": "UT1234A", "catalogued": False})
    r = await get(jp_fetch, "observation", params={"experiment": "UT1234A"})
    assert r.code == 200
    assert body_of(r) == {"experiment": "UT1234A", "catalogued": False}


async def test_an_unknown_experiment_is_a_404_with_the_close_codes(jp_fetch, service):
    path = "/experiments/EG078C/observation"
    answer = {
        "message": "The EVN archive has no experiment EG078C.",
        "error": "UnknownExperiment",
        "suggestions": ["EG078B", "EG087C"],
    }
    service.answer(path, answer, status=404)
    r = await get(jp_fetch, "observation", params={"experiment": "EG078C"})
    assert r.code == 404
    body = body_of(r)
    assert body["message"] == "The EVN archive has no experiment EG078C."
    assert body["suggestions"] == ["EG078B", "EG087C"]
    assert body["error"] == "UnknownExperiment"


async def test_suggestions_that_are_not_codes_are_left_out(jp_fetch, service):
    path = "/experiments/EG078C/observation"
    service.answer(path, {"message": "unknown", "suggestions": [1, {"x": 2}]}, status=404)
    r = await get(jp_fetch, "observation", params={"experiment": "EG078C"})
    assert r.code == 404
    assert "suggestions" not in body_of(r) and body_of(r)["message"] == "unknown"


async def test_a_catalogue_that_cannot_answer_is_a_503_with_retry_after_asked_once(
    jp_fetch, service
):
    answer = {"message": "The archive's catalogue did not answer.", "error": "CatalogueUnavailable"}
    service.answer(PATH, answer, status=503, headers={"Retry-After": "30"})
    r = await get(jp_fetch, "observation", params={"experiment": "EG078B"})
    assert r.code == 503
    assert r.headers["Retry-After"] == "30"
    assert body_of(r)["message"] == "The archive's catalogue did not answer."
    assert body_of(r)["error"] == "CatalogueUnavailable"
    # the service already waited out its own time limit: not asked again
    assert len(service.requests_to(PATH)) == 1


async def test_a_service_that_is_down_is_a_503(jp_fetch, evn_config, service):
    service.server.shutdown()
    service.server.server_close()
    r = await get(jp_fetch, "observation", params={"experiment": "EG078B"})
    assert r.code == 503
    assert "cannot be reached" in body_of(r)["message"]


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({}, "it is empty"),
        ({"experiment": ""}, "it is empty"),
        ({"experiment": " EG078B"}, "contains a space"),
        ({"experiment": "EG078B/../x"}, "is not an EVN experiment code"),
        ({"experiment": "E" * 40}, "at most 32"),
    ],
)
async def test_a_malformed_code_is_a_400_before_any_network_call(jp_fetch, service, params, text):
    r = await get(jp_fetch, "observation", params=params)
    assert r.code == 400
    assert text in body_of(r)["message"]
    assert service.seen == []
