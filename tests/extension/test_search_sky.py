"""The Archive's search by source name and position through ``GET evn-submit/search``: ``target``
and the cone (``ra``, ``dec``, ``radius``) go to the service's ``GET /api/v1/notebooks`` as given;
a cone that is not whole or out of the contract's bounds is a 400 before any network call
(docs/catalogue.md). The notebook service is faked at the wire (tests/fakeservice.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from evnhelpers import body_of, get
from fakeservice import FakeService, summary

OBSERVATION = {
    "targets": [{"name": "3C 345", "ra": 250.745, "dec": 39.8103}],
    "public_from": None,
    "products": [{"did": "ivo://evn/EG078B#1", "access_url": "https://archive.test/EG078B.tgz"}],
}
HITS = [summary(i, snippet="", observation=OBSERVATION) for i in range(2)]


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeService() as fake:
        fake.pages("/notebooks", "notebooks", HITS)
        yield fake


@pytest.fixture
def evn_config(evn_config: dict[str, Any], service: FakeService) -> dict[str, Any]:
    return evn_config | {"service_url": service.url}


async def test_a_source_name_and_a_cone_go_through_as_given(jp_fetch, service):
    query = {"target": "3C 345", "ra": "250.745", "dec": "-39.81", "radius": "0.5"}
    r = await get(jp_fetch, "search", params=query)
    assert r.code == 200, r.body
    assert body_of(r)["notebooks"][0]["observation"] == OBSERVATION  # hits keep it
    assert service.requests_to("/notebooks")[0].query == query


@pytest.mark.parametrize(
    "cone",
    [
        {"ra": "0", "dec": "-90", "radius": "10"},
        {"ra": "359.999", "dec": "90", "radius": "0.0001"},
        {"ra": "1e1", "dec": "+5", "radius": ".5"},
    ],
)
async def test_a_cone_at_its_bounds_is_asked(jp_fetch, service, cone):
    r = await get(jp_fetch, "search", params=cone)
    assert r.code == 200, r.body
    assert service.requests_to("/notebooks")[0].query == cone


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"ra": "10"}, "ra, dec and radius go together"),
        ({"ra": "10", "dec": "20"}, "not only ra, dec"),
        ({"dec": "20", "radius": "1"}, "not only dec, radius"),
        ({"ra": "360", "dec": "0", "radius": "1"}, "ra must be a number of degrees"),
        ({"ra": "-0.1", "dec": "0", "radius": "1"}, "ra must be"),
        ({"ra": "10", "dec": "90.5", "radius": "1"}, "dec must be"),
        ({"ra": "10", "dec": "-91", "radius": "1"}, "dec must be"),
        ({"ra": "10", "dec": "0", "radius": "0"}, "radius must be"),
        ({"ra": "10", "dec": "0", "radius": "10.01"}, "radius must be"),
        ({"ra": "ten", "dec": "0", "radius": "1"}, "ra must be a number of degrees"),
        ({"ra": "nan", "dec": "0", "radius": "1"}, "ra must be"),
        ({"ra": "10", "dec": "inf", "radius": "1"}, "dec must be"),
        ({"ra": "1 0", "dec": "0", "radius": "1"}, "ra must be"),
        ({"ra": "1_0", "dec": "0", "radius": "1"}, "ra must be"),
    ],
)
async def test_a_bad_cone_is_a_400_before_any_network_call(jp_fetch, service, params, text):
    r = await get(jp_fetch, "search", params=params)
    assert r.code == 400
    assert text in body_of(r)["message"]
    assert service.seen == []
