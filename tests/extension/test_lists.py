"""Pages and search through the routes, with the notebook service faked at the wire (real HTTP
on 127.0.0.1, tests/fakeservice.py): what the extension checks itself, what it passes through,
what it answers. Keycloak is down here: none of these needs a login. The same routes against
the real service: test_lists_stack.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from evnhelpers import body_of, get
from fakeservice import FakeService, summary

from jupyterlab_evn_submit import listing
from jupyterlab_evn_submit.client import ServiceClient
from jupyterlab_evn_submit.listing import Page

NOTEBOOKS = [summary(i) for i in range(7)]
HITS = [summary(i, snippet="the <mark>fringe</mark> step") for i in range(3)]


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeService() as fake:
        fake.pages("/experiments/EG078B/notebooks", "notebooks", NOTEBOOKS, experiment="EG078B")
        fake.pages("/notebooks", "notebooks", HITS)
        yield fake


@pytest.fixture
def evn_config(evn_config: dict[str, Any], service: FakeService) -> dict[str, Any]:
    return evn_config | {"service_url": service.url}


async def test_an_experiment_comes_a_page_at_a_time(jp_fetch, service):
    first = body_of(await get(jp_fetch, "experiments", "eg078b", "notebooks", params={"limit": 3}))
    assert [n["name"] for n in first["notebooks"]] == [n["name"] for n in NOTEBOOKS[:3]]
    assert first["experiment"] == "EG078B"
    # the service's next URL is not ours: callers get the cursor and send it back
    assert "next" not in first and first["next_cursor"]
    second = body_of(
        await get(
            jp_fetch,
            "experiments",
            "EG078B",
            "notebooks",
            params={"limit": 3, "cursor": first["next_cursor"]},
        )
    )
    assert [n["name"] for n in second["notebooks"]] == [n["name"] for n in NOTEBOOKS[3:6]]
    assert [s.query for s in service.requests_to("/experiments/EG078B/notebooks")] == [
        {"limit": "3"},
        {"limit": "3", "cursor": first["next_cursor"]},
    ]
    last = body_of(await get(jp_fetch, "experiments", "EG078B", "notebooks", params={"limit": 100}))
    assert len(last["notebooks"]) == 7 and last["next_cursor"] is None


async def test_without_limit_the_service_chooses(jp_fetch, service):
    r = await get(jp_fetch, "experiments", "EG078B", "notebooks")
    assert r.code == 200 and len(body_of(r)["notebooks"]) == 7
    assert service.requests_to("/experiments/EG078B/notebooks")[0].query == {}


async def test_versions_pass_the_page_through(jp_fetch, service):
    path = "/experiments/EG078B/notebooks/demo/calibration/versions"
    versions = [{"version": v, "commit": f"{v:040x}", "date": "", "message": ""} for v in (3, 2, 1)]
    service.pages(path, "versions", versions, experiment="EG078B")
    parts = ("experiments", "EG078B", "notebooks", "demo", "calibration", "versions")
    r = await get(jp_fetch, *parts, params={"limit": 2})
    assert [v["version"] for v in body_of(r)["versions"]] == [3, 2]
    cursor = body_of(r)["next_cursor"]
    r = await get(jp_fetch, *parts, params={"limit": 2, "cursor": cursor})
    assert [v["version"] for v in body_of(r)["versions"]] == [1]
    assert body_of(r)["next_cursor"] is None
    assert service.requests_to(path)[-1].query == {"limit": "2", "cursor": cursor}


async def test_search_is_public_and_passes_the_filters_through(jp_fetch, service, actions):
    query = {
        "q": "fringe fitting",
        "experiment": "EG078B",
        "author": "Doe",
        "orcid": "0000-0002-1825-0097",
        "keyword": "vlbi",
        "license": "CC-BY-4.0",
        "since": "2026-01-01",
        "until": "2026-11-25T12:00:00Z",
        "sort": "title",
        "limit": "2",
    }
    r = await get(jp_fetch, "search", params=query | {"unknown": "x", "author": "Doe"})
    assert r.code == 200, r.body
    answer = body_of(r)
    assert [h["snippet"] for h in answer["notebooks"]] == ["the <mark>fringe</mark> step"] * 2
    assert answer["next_cursor"] and "next" not in answer
    seen = service.requests_to("/notebooks")[0]
    assert seen.query == query  # the contract's names only, as given
    assert "Authorization" not in seen.headers  # public: no login, no token
    assert actions.tokens.oidc.token_requests == 0
    r = await get(jp_fetch, "search", params={"q": "fringe", "cursor": answer["next_cursor"]})
    assert [h["name"] for h in body_of(r)["notebooks"]] == [HITS[2]["name"]]


async def test_empty_search_parameters_are_left_out(jp_fetch, service):
    r = await get(jp_fetch, "search", params={"q": "", "author": "", "sort": "updated"})
    assert r.code == 200
    assert service.requests_to("/notebooks")[0].query == {"sort": "updated"}


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"limit": "0"}, "limit must be a whole number from 1 to 100"),
        ({"limit": "101"}, "limit must be"),
        ({"limit": "ten"}, "limit must be"),
        ({"sort": "random"}, "sort must be one of relevance, updated, title"),
        ({"since": "yesterday"}, "since must be a date"),
        ({"until": "2026-13-01"}, "until must be a date"),
    ],
)
async def test_what_can_be_checked_here_is_a_400_before_any_call(jp_fetch, service, params, text):
    r = await get(jp_fetch, "search", params={"q": "fringe"} | params)
    assert r.code == 400 and text in body_of(r)["message"], r.body
    if "limit" in params:
        for parts in (("submissions",), ("experiments", "EG078B", "notebooks")):
            r = await get(jp_fetch, *parts, params=params)
            assert r.code == 400 and text in body_of(r)["message"], (parts, r.body)
    assert service.seen == []


async def test_the_service_refusing_a_cursor_is_a_400_with_its_message(jp_fetch, service):
    r = await get(jp_fetch, "experiments", "EG078B", "notebooks", params={"cursor": "forged"})
    assert r.code == 400
    assert body_of(r)["message"] == "This cursor was not given out by the archive."


async def test_my_submissions_send_the_page_with_the_token(service):
    """The route needs a login (covered against the real stack); its request is this one."""
    service.pages("/me/submissions", "submissions", NOTEBOOKS)
    client = ServiceClient(service.url, timeout=5)
    answer = await client.my_submissions("a-token", Page(limit=5, cursor="at-5"))
    assert [n["name"] for n in answer["submissions"]] == [n["name"] for n in NOTEBOOKS[5:]]
    seen = service.requests_to("/me/submissions")[0]
    assert seen.query == {"limit": "5", "cursor": "at-5"}
    assert seen.headers["Authorization"] == "Bearer a-token"


def test_the_checks_follow_the_contract():
    doc = listing.contract.document()
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert listing.limit_range() == (limit["minimum"], limit["maximum"])
    search = doc["paths"][listing.SEARCH_PATH]["get"]["parameters"]
    sort = next(p for p in search if p.get("name") == "sort")
    assert listing.sort_orders() == tuple(sort["schema"]["anyOf"][0]["enum"])
    assert set(listing.search_parameters()) == {
        p.get("name") or p["$ref"].rsplit("/", 1)[1] for p in search
    }
