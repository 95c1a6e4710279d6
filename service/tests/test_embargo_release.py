"""The embargo and the search by source against the real stack (DaCHS, Keycloak, Gitea), issue 15.

A service process of this checkout with devstack's catalogue takes the submissions; an in-process
``Indexer`` over an index of its own, with a clock the test sets, releases the embargo: the
repository becomes public in Gitea and the notebook shows in search for everyone.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from evn_notebook_service.catalogue import Catalogue
from evn_notebook_service.config import ServiceConfig
from evn_notebook_service.gitea import GiteaClient
from evn_notebook_service.index import Index, SearchQuery, Viewer
from evn_notebook_service.indexer import Indexer
from svc_api import GiteaInspector, OpenAPI, body, experiment_code, metadata, submit
from svc_process import STACK_KEYS, ServiceProcess

from devstack.dachs import SEED

SEARCH = "/api/v1/notebooks"
NOTEBOOK = "/api/v1/experiments/{code}/notebooks/{owner}/{name}"


def _catalogue_env(stack: dict[str, str]) -> dict[str, str]:
    if not stack.get("EVN_TAP_URL"):
        pytest.fail("devstack env prints no EVN_TAP_URL: the stack has no catalogue (DaCHS)")
    return {k: stack[k] for k in ("EVN_TAP_URL", "EVN_CATALOGUE_CODES")}


@pytest.fixture(scope="module")
def catalogued(stack: dict[str, str], service_logs: Path) -> Iterator[ServiceProcess]:
    """A service of this checkout that asks devstack's catalogue (no periodic reconcile)."""
    env = {**_catalogue_env(stack), "EVN_SERVICE_RECONCILE_SECONDS": "0"}
    with ServiceProcess(stack, service_logs, "catalogued", **env) as proc:
        yield proc


@pytest.fixture(scope="module")
def contract(catalogued: ServiceProcess) -> OpenAPI:
    return OpenAPI(requests.get(catalogued.url + "/api/v1/openapi.json", timeout=10).json())


def _config(stack: dict[str, str], mp: pytest.MonkeyPatch) -> ServiceConfig:
    for key in STACK_KEYS:
        mp.setenv(key, stack[key])
    for key, value in _catalogue_env(stack).items():
        mp.setenv(key, value)
    return ServiceConfig()


def _submit(url: str, code: str, token: str, title: str) -> dict[str, Any]:
    r = submit(url, code, token, body(metadata=metadata(title)))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _get(url: str, path: str, token: str | None = None, **params: str) -> requests.Response:
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.get(url + path, params=params, headers=headers, timeout=60)


def _titles(r: requests.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [hit["title"] for hit in r.json()["notebooks"]]


# ---- search by source, through the HTTP API


def test_search_by_target_and_cone(
    catalogued: ServiceProcess, contract: OpenAPI, token: Any
) -> None:
    word = "src" + uuid.uuid4().hex[:10]
    title = f"Target search {word}"
    _submit(catalogued.url, "EG078B", token(), title)
    (ra, dec), url = (250.74504, 39.81028), catalogued.url  # 3C 345, one of EG078B's targets
    found = _get(url, SEARCH, q=word, target="3c345")
    assert _titles(found) == [title]
    hit = contract.check(SEARCH, "get", found)["notebooks"][0]
    assert {t["name"] for t in hit["observation"]["targets"]} == {"3C 345", "J1638+5720"}
    assert hit["observation"]["products"] and hit["public_from"] is None
    assert _titles(_get(url, SEARCH, q=word, target="J1638+57")) == [title]
    assert _titles(_get(url, SEARCH, q=word, target="M 87")) == []
    assert _titles(_get(url, SEARCH, q=word, ra=str(ra + 0.01), dec=str(dec), radius="0.05")) == [
        title
    ]
    assert _titles(_get(url, SEARCH, q=word, ra=str(ra + 1), dec=str(dec), radius="0.5")) == []
    assert _titles(
        _get(url, SEARCH, q=word, ra="249.55608", dec="57.33998", radius="1e-3", target="J1638")
    ) == [title]
    alone = _get(url, SEARCH, ra="250")
    contract.check(SEARCH, "get", alone)
    assert alone.status_code == 400 and "ra, dec and radius together" in alone.json()["message"]
    far = _get(url, SEARCH, ra="250", dec="40", radius="11")
    assert far.status_code == 400 and "radius must be" in far.json()["message"]


# ---- the embargo, and its release by the clock


def _embargoed_code() -> tuple[str, datetime]:
    """A seeded experiment whose data are still proprietary, and when they become public."""
    today = datetime.now(timezone.utc).date().isoformat()
    codes = sorted({r["obs_id"] for r in SEED if r["public_from"] > today})
    assert codes, "the seed has no proprietary experiment"
    return random.choice(codes), datetime.now(timezone.utc)


def _private(gitea: GiteaInspector, code: str) -> bool:
    r = gitea.api(f"/repos/{gitea.org}/{code}")
    assert r.status_code == 200, r.text
    return bool(r.json()["private"])


def _anonymous_repo(gitea: GiteaInspector, code: str) -> int:
    return requests.get(f"{gitea.url}/api/v1/repos/{gitea.org}/{code}", timeout=30).status_code


def test_embargoed_notebook_is_private_then_released_by_the_clock(
    stack: dict[str, str], catalogued: ServiceProcess, contract: OpenAPI, token: Any,
    gitea: GiteaInspector, tmp_path: Path,
) -> None:  # fmt: skip
    code, now = _embargoed_code()
    word = "emb" + uuid.uuid4().hex[:10]
    result = _submit(catalogued.url, code, token(), f"Embargoed {word}")
    assert result["public_from"] is not None
    public_from = datetime.fromisoformat(result["public_from"].replace("Z", "+00:00"))
    assert public_from > now
    try:
        assert _private(gitea, code) and _anonymous_repo(gitea, code) == 404
        _hidden_from_others(catalogued.url, contract, token, code, result, word)
        with pytest.MonkeyPatch.context() as mp:
            config = _config(stack, mp)
        asyncio.run(_release(config, tmp_path, code, word, now, public_from, gitea))
    finally:  # the seeded experiment stays proprietary for the rest of the stack's users
        with pytest.MonkeyPatch.context() as mp:
            asyncio.run(GiteaClient(_config(stack, mp)).set_private(code, True))


def _hidden_from_others(
    url: str, contract: OpenAPI, token: Any, code: str, result: dict[str, Any], word: str
) -> None:
    """Only the submitter (the demo researcher) sees the notebook, told until when."""
    owner, name = result["folder"].split("/")
    path = NOTEBOOK.format(code=code, owner=owner, name=name)
    assert _titles(_get(url, SEARCH, q=word)) == []
    assert _titles(_get(url, SEARCH, token("second"), q=word)) == []
    mine = _get(url, SEARCH, token(), q=word)
    assert _titles(mine) == [f"Embargoed {word}"]
    assert (
        contract.check(SEARCH, "get", mine)["notebooks"][0]["public_from"] == result["public_from"]
    )
    for who in (None, token("second")):
        r = _get(url, path, who)
        assert r.status_code == 404, r.text
        assert r.json()["message"] == f"{owner}/{name} is not archived in {code}"  # as for none
    r = _get(url, path, token(), version="1")
    assert r.status_code == 200 and "immutable" not in r.headers["Cache-Control"]
    assert contract.check(NOTEBOOK, "get", r)["observation"]["public_from"] == result["public_from"]
    subs = _get(url, "/api/v1/me/submissions", token(), limit="100")
    mine_there = [
        s
        for s in subs.json()["submissions"]
        if s["folder"] == result["folder"] and s["experiment"] == code
    ]
    assert [s["public_from"] for s in mine_there] == [result["public_from"]]
    bad = _get(url, SEARCH, "not-a-token", q=word)
    assert bad.status_code == 401 and "WWW-Authenticate" in bad.headers


async def _release(
    config: ServiceConfig, tmp: Path, code: str, word: str, now: datetime, public_from: datetime,
    gitea: GiteaInspector,
) -> None:  # fmt: skip
    later = public_from + timedelta(days=1)
    index = Index(f"sqlite:///{tmp / 'index.sqlite'}")
    await asyncio.to_thread(index.migrate)
    indexer = Indexer(
        config, GiteaClient(config), index, catalogue=Catalogue(config), clock=later.timestamp
    )
    try:
        assert await indexer.refresh_experiments([{"name": code, "private": True}]) == 1
        await indexer.reindex_repo(code)
        query = SearchQuery(q=word)
        assert index.search(query, 10, None, Viewer.at(now)).items == []
        assert await indexer.release_due(now) == []  # not yet: nothing changes
        assert _private(gitea, code)
        assert await indexer.release_due() == [code]  # the clock: a day after public_from
        assert not _private(gitea, code) and _anonymous_repo(gitea, code) == 200
        for moment in (now, later):  # released: shown to everyone, whatever the time
            assert [
                i["experiment"] for i in index.search(query, 10, None, Viewer.at(moment)).items
            ] == [code]
        assert await indexer.release_due() == []  # idempotent: recorded as released
        assert index.experiment_states()[code] == (public_from.strftime("%Y-%m-%dT%H:%M:%SZ"), True)
    finally:
        index.dispose()


def test_release_of_a_repository_that_is_gone_is_recorded(
    stack: dict[str, str], tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        config = _config(stack, mp)
    code = experiment_code()  # no such repository in Gitea

    async def run() -> None:
        index = Index(f"sqlite:///{tmp_path / 'index.sqlite'}")
        await asyncio.to_thread(index.migrate)
        index.put_experiment(
            code, {"targets": [], "public_from": None, "products": []}, "2020-01-01T00:00:00Z"
        )
        try:
            indexer = Indexer(config, GiteaClient(config), index)
            assert await indexer.release_due(datetime.now(timezone.utc)) == [code]
            assert index.experiment_states()[code] == ("2020-01-01T00:00:00Z", True)
        finally:
            index.dispose()

    asyncio.run(run())
