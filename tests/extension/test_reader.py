"""The archive's reads as the logged-in researcher (docs/catalogue.md, "Embargo in reads"): a
notebook of an experiment still proprietary is shown to its submitter alone, so while a login is
stored the search, an experiment's list, the versions and a copy are asked with the researcher's
token; without a login, or when the login cannot give a token (Keycloak down here), they are
asked anonymously and still answer. The notebook service is faked at the wire."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evnhelpers import TEST_KEY, body_of, get, post
from fakeservice import FakeService, summary

from jupyterlab_evn_submit.tokenstore import StoredLogin, TokenStore

NOTEBOOK = "/experiments/EG078B/notebooks/demo/notebook-000"


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeService() as fake:
        fake.pages("/notebooks", "notebooks", [summary(0, snippet="")])
        fake.pages("/experiments/EG078B/notebooks", "notebooks", [summary(0)])
        fake.pages(NOTEBOOK + "/versions", "versions", [{"version": 1}], experiment="EG078B")
        nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        fake.answer(NOTEBOOK, summary(0) | {"notebook": nb})
        yield fake


@pytest.fixture
def evn_config(evn_config: dict[str, Any], service: FakeService) -> dict[str, Any]:
    return evn_config | {"service_url": service.url}


def log_in(store_path: Path, actions: Any, token: str | None) -> None:
    """A stored login, and (``token``) an access token still valid in the server's cache."""
    TokenStore(store_path, [TEST_KEY]).save(
        StoredLogin("a-refresh-token", actions.config.issuer_url, "evn-jupyterlab", {})
    )
    if token:
        actions.tokens._access_token = token
        actions.tokens._access_expires = time.time() + 300


async def read_everything(jp_fetch: Any) -> None:
    for parts in (
        ("search",),
        ("experiments", "EG078B", "notebooks"),
        ("experiments", "EG078B", "notebooks", "demo", "notebook-000", "versions"),
    ):
        r = await get(jp_fetch, *parts, params={"q": "x"} if parts == ("search",) else {})
        assert r.code == 200, (parts, r.body)
    body = {"experiment": "EG078B", "owner": "demo", "name": "notebook-000"}
    r = await post(jp_fetch, "open-copy", body=body)
    assert r.code == 200, r.body
    assert body_of(r)["path"].startswith("evn-archive/EG078B/")


async def test_a_logged_in_researcher_reads_with_their_token(
    jp_fetch, service, store_path, actions
):
    log_in(store_path, actions, "researcher-token")
    await read_everything(jp_fetch)
    assert len(service.seen) == 4
    for seen in service.seen:
        assert seen.headers.get("Authorization") == "Bearer researcher-token", seen.path


async def test_without_a_login_the_reads_are_anonymous(jp_fetch, service, actions):
    await read_everything(jp_fetch)
    assert len(service.seen) == 4
    assert all("Authorization" not in seen.headers for seen in service.seen)
    assert actions.tokens.oidc.token_requests == 0


async def test_a_login_that_cannot_give_a_token_reads_anonymously(
    jp_fetch, service, store_path, actions
):
    log_in(store_path, actions, None)  # Keycloak is a closed port: no token to be had
    await read_everything(jp_fetch)
    assert all("Authorization" not in seen.headers for seen in service.seen)
