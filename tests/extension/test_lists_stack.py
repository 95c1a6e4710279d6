"""Pages and search through the extension's routes against the real Keycloak, notebook service
(answering from its index) and Gitea. The same routes with the service faked at the wire:
test_lists.py."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import nbformat
import pytest
from evnhelpers import TEST_KEY, assert_no_token, body_of, browser_login, get, make_notebook, post

pytestmark = pytest.mark.stack


@pytest.fixture
def evn_config(stack: dict[str, str], store_path: Path) -> dict[str, Any]:
    return {
        "issuer_url": stack["EVN_ISSUER_URL"],
        "client_id": stack["EVN_CLIENT_ID"],
        "service_url": stack["EVN_SERVICE_URL"],
        "token_store": str(store_path),
        "token_keys": [TEST_KEY],
        "bootstrap_token_env": "EVN_TEST_NO_BOOTSTRAP_TOKEN",
        "http_timeout": 90.0,
    }


def submission(experiment: str, name: str, title: str) -> dict[str, Any]:
    return {
        "path": f"{name}.ipynb",
        "experiment": experiment,
        "metadata": {
            "title": title,
            "description": "Paging test.",
            "authors": [{"name": "Second Researcher"}],
            "license": "CC-BY-4.0",
            "keywords": ["paging"],
        },
        "name": name,
        "output_policy": "keep",
        "message": "",
        "idempotency_key": "key-" + secrets.token_hex(8),
    }


async def walk(jp_fetch: Any, *parts: str, key: str, limit: int, pages: int = 50) -> list[Any]:
    """Every item of a list, following ``next_cursor`` ``limit`` at a time."""
    items: list[Any] = []
    cursor = None
    for _ in range(pages):
        params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        r = await get(jp_fetch, *parts, params=params)
        assert r.code == 200, r.body
        page = body_of(r)
        assert len(page[key]) <= limit and "next" not in page
        items += page[key]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"more than {pages} pages of {parts}")


async def test_lists_come_in_pages_and_search_finds_a_cell(
    jp_fetch, stack, write_notebook, jp_root_dir
):
    experiment = f"P{secrets.randbelow(10_000):04d}{secrets.token_hex(2).upper()}"
    word = "zq" + secrets.token_hex(5)
    # the second researcher: the demo user may own hundreds of notebooks after benchmarks
    await browser_login(jp_fetch, stack, stack["EVN_SECOND_USER"], stack["EVN_SECOND_PASSWORD"])
    names = [f"paging-{i}" for i in range(3)]
    for i, name in enumerate(names):
        nb = make_notebook(1)
        if i == 1:
            nb.cells.append(nbformat.v4.new_markdown_cell(f"The {word} step of the reduction."))
        write_notebook(f"{name}.ipynb", nb)
        r = await post(jp_fetch, "submit", body=submission(experiment, name, f"Paging {i}"))
        assert r.code == 201, r.body
    r = await post(jp_fetch, "submit", body=submission(experiment, names[0], "Paging 0, again"))
    assert r.code == 201 and body_of(r)["version"] == 2, r.body

    # an experiment, two at a time: every notebook once, by owner and name
    listed = await walk(jp_fetch, "experiments", experiment, "notebooks", key="notebooks", limit=2)
    assert [n["name"] for n in listed] == names
    assert all(n["legacy"] is False for n in listed)

    # the versions of one notebook, one at a time, newest first
    parts = ("experiments", experiment, "notebooks", stack["EVN_SECOND_USER"], names[0])
    versions = await walk(jp_fetch, *parts, "versions", key="versions", limit=1)
    assert [v["version"] for v in versions] == [2, 1]

    # my submissions, two at a time: ours among them, none twice
    mine = await walk(jp_fetch, "submissions", key="submissions", limit=2)
    ours = [s["name"] for s in mine if s["experiment"] == experiment]
    assert sorted(ours) == names
    assert len({(s["experiment"], s["folder"]) for s in mine}) == len(mine)

    # the search finds the word of a markdown cell, in that notebook only, and marks it
    r = await get(jp_fetch, "search", params={"q": word})
    assert r.code == 200, r.body
    hits = body_of(r)["notebooks"]
    assert [(h["experiment"], h["name"]) for h in hits] == [(experiment, names[1])]
    assert f"<mark>{word}</mark>" in hits[0]["snippet"]
    # the filters reach the service: the same word in another experiment finds nothing
    r = await get(jp_fetch, "search", params={"q": word, "experiment": "EG078B"})
    assert body_of(r)["notebooks"] == []
    r = await get(jp_fetch, "search", params={"experiment": experiment, "sort": "title"})
    assert [h["title"] for h in body_of(r)["notebooks"]] == [
        "Paging 0, again",
        "Paging 1",
        "Paging 2",
    ]
    assert_no_token(r.body)


async def test_the_service_refuses_a_forged_cursor_with_a_400(jp_fetch):
    r = await get(jp_fetch, "search", params={"q": "fringe", "cursor": "forged"})
    assert r.code == 400 and body_of(r)["message"], r.body
    # a search needs no EVN login (Keycloak is never asked)
    r = await get(jp_fetch, "search", params={"q": "fringe", "limit": "1"})
    assert r.code == 200 and len(body_of(r)["notebooks"]) <= 1
