"""Submission, browsing and copies against the real Keycloak, notebook service and Gitea."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import anyio.to_thread
import nbformat
import pytest
from evnhelpers import (
    TEST_KEY,
    assert_no_token,
    body_of,
    browser_login,
    closed_port,
    get,
    make_notebook,
    post,
)
from stackhelpers import gitea

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


@pytest.fixture
def experiment() -> str:
    """A fresh experiment code per test, so tests never see each other's notebooks."""
    return f"T{secrets.randbelow(10_000):04d}{secrets.token_hex(2).upper()}"


def request(experiment: str, **over: Any) -> dict[str, Any]:
    return {
        "path": "calibration.ipynb",
        "experiment": experiment,
        "metadata": {
            "title": "Amplitude calibration",
            "description": "Amplitude calibration of the test experiment.",
            "authors": [{"name": "Demo Researcher", "orcid": "", "affiliation": "JIVE"}],
            "license": "CC-BY-4.0",
            "keywords": ["calibration"],
        },
        "name": "calibration",
        "output_policy": "keep",
        "message": "first version",
        "idempotency_key": "key-" + secrets.token_hex(8),
    } | over


async def test_submit_replay_and_resubmit(jp_fetch, stack, actions, experiment, write_notebook):
    await browser_login(jp_fetch, stack)
    path = write_notebook()
    before = path.read_bytes()
    first_request = request(experiment)
    r = await post(jp_fetch, "submit", body=first_request)
    assert r.code == 201, r.body
    first = body_of(r)
    assert first["created"] is True and first["version"] == 1
    assert first["submitter"]["username"] == "demo"
    assert first["permalink"].startswith(stack["EVN_GITEA_URL"])
    assert_no_token(r.body)
    assert path.read_bytes() == before  # submitting never touches the workspace file

    # the same click retried (same idempotency key): the first answer, no second commit
    again = await post(jp_fetch, "submit", body=first_request)
    assert again.code == 200, again.body
    assert body_of(again)["commit"] == first["commit"] and body_of(again)["created"] is False

    # a new click after an edit: version 2 in the same folder
    nb = make_notebook(4)
    write_notebook(nb=nb)
    second = body_of(await post(jp_fetch, "submit", body=request(experiment, message="v2")))
    assert second["version"] == 2 and second["folder"] == first["folder"]
    commits = await anyio.to_thread.run_sync(
        lambda: gitea(
            stack,
            "GET",
            f"/repos/{stack['EVN_GITEA_ORG']}/{experiment}/commits",
            params={"path": first["folder"]},
            admin=True,
        ).json()
    )
    assert {c["sha"] for c in commits} == {first["commit"], second["commit"]}

    # what was archived: our notebook, with provenance the extension attached
    owner, name = first["submitter"]["username"], first["name"]
    versions = body_of(
        await get(jp_fetch, "experiments", experiment, "notebooks", owner, name, "versions")
    )
    assert [v["version"] for v in versions["versions"]] == [2, 1] or [
        v["version"] for v in versions["versions"]
    ] == [1, 2]
    archived = await actions.client.notebook(experiment, owner, name, 1)
    assert archived["notebook"]["cells"][1]["source"] == "print(0)"
    provenance = archived["provenance"]
    assert provenance["kernel"]["name"] == "python3"
    assert provenance["execution"]["in_order"] is True
    assert provenance["nbformat"].startswith("4.")
    assert provenance["packages"]["nbformat"] == nbformat.__version__
    assert provenance["output_policy"] == "keep"


async def test_strip_policy_is_what_gets_archived(
    jp_fetch, stack, actions, experiment, write_notebook
):
    await browser_login(jp_fetch, stack)
    write_notebook(nb=make_notebook(3, 5000))
    r = await post(jp_fetch, "submit", body=request(experiment, output_policy="strip"))
    assert r.code == 201, r.body
    answer = body_of(r)
    archived = await actions.client.notebook(
        experiment, answer["submitter"]["username"], answer["name"]
    )
    code = [c for c in archived["notebook"]["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] for c in code)
    assert archived["provenance"]["stripped_outputs"] == 3


async def test_browse_and_open_copies_never_overwrite(
    jp_fetch, stack, experiment, write_notebook, jp_root_dir
):
    # the second researcher: the demo user may own hundreds of notebooks after benchmarks; the
    # first page of "my submissions" holds the newest, so this one
    await browser_login(jp_fetch, stack, stack["EVN_SECOND_USER"], stack["EVN_SECOND_PASSWORD"])
    write_notebook()
    answer = body_of(await post(jp_fetch, "submit", body=request(experiment)))
    mine = body_of(await get(jp_fetch, "submissions"))["submissions"]
    assert any(s["experiment"] == experiment and s["name"] == answer["name"] for s in mine)
    listed = body_of(await get(jp_fetch, "experiments", experiment, "notebooks"))
    assert [n["name"] for n in listed["notebooks"]] == [answer["name"]]
    assert listed["notebooks"][0]["title"] == "Amplitude calibration"

    owner = answer["submitter"]["username"]
    assert owner == stack["EVN_SECOND_USER"]
    ask = {"experiment": experiment, "owner": owner, "name": answer["name"], "version": 1}
    first = body_of(await post(jp_fetch, "open-copy", body=ask))["path"]
    assert first == f"evn-archive/{experiment}/{answer['name']}-v1.ipynb"
    copy = jp_root_dir / first
    nb = nbformat.read(copy, as_version=4)
    assert nb.cells[1].source == "print(0)"
    copy.write_text(copy.read_text().replace("print(0)", "print('my edit')"))
    second = body_of(await post(jp_fetch, "open-copy", body=ask))["path"]
    assert second != first and second.startswith(f"evn-archive/{experiment}/")
    assert "my edit" in copy.read_text()  # the first copy was not overwritten
    # two at once still get two names
    third, fourth = await asyncio.gather(
        post(jp_fetch, "open-copy", body=ask), post(jp_fetch, "open-copy", body=ask)
    )
    paths = {first, second, body_of(third)["path"], body_of(fourth)["path"]}
    assert len(paths) == 4


async def test_unknown_notebook_is_a_404_with_a_message(jp_fetch, experiment):
    r = await get(jp_fetch, "experiments", experiment, "notebooks", "demo", "nothing", "versions")
    assert r.code == 404
    assert body_of(r)["message"]
    r = await post(
        jp_fetch, "open-copy", body={"experiment": experiment, "owner": "demo", "name": "nothing"}
    )
    assert r.code == 404


@pytest.fixture
def short_lived(evn_config: dict[str, Any], stack: dict[str, str]) -> None:
    evn_config["client_id"] = stack["EVN_SHORT_CLIENT_ID"]  # 10 s access tokens


async def test_two_submits_after_expiry_share_one_refresh(
    short_lived, jp_fetch, stack, actions, experiment, write_notebook
):
    await browser_login(jp_fetch, stack)
    write_notebook("a.ipynb")
    write_notebook("b.ipynb", make_notebook(5))
    tokens = actions.tokens
    await tokens.access_token()
    await asyncio.sleep(8.5)  # the access token is now due for renewal
    assert tokens.oidc.token_requests == 1
    # note how many token-endpoint calls had happened when each caller got its token (a slow
    # service could later refuse a token that expired in flight; that is another refresh)
    seen: list[tuple[str, int]] = []
    real = tokens.access_token

    async def observed() -> str:
        token = await real()
        seen.append((token, tokens.oidc.token_requests))
        return token

    tokens.access_token = observed
    ra, rb = await asyncio.gather(
        post(jp_fetch, "submit", body=request(experiment, path="a.ipynb", name="a")),
        post(jp_fetch, "submit", body=request(experiment, path="b.ipynb", name="b")),
    )
    assert (ra.code, rb.code) == (201, 201), (ra.body, rb.body)
    (token_a, calls_a), (token_b, calls_b) = seen[:2]
    assert token_a == token_b  # both submissions used the one renewed token
    assert calls_a == calls_b == 2  # code exchange + ONE refresh


@pytest.fixture
def service_down(evn_config: dict[str, Any]) -> None:
    evn_config["service_url"] = f"http://127.0.0.1:{closed_port()}"


async def test_service_down_is_a_clear_error_and_the_notebook_is_untouched(
    service_down, jp_fetch, stack, write_notebook, store_path
):
    await browser_login(jp_fetch, stack)
    path = write_notebook()
    before = path.read_bytes()
    r = await post(jp_fetch, "submit", body=request("EG078B"))
    assert r.code == 503
    message = body_of(r)["message"]
    assert "cannot be reached" in message and "unchanged" in message
    assert path.read_bytes() == before
    assert store_path.exists()  # still logged in
    status = body_of(await get(jp_fetch, "status"))
    assert status["logged_in"] is True and status["service"]["reachable"] is False
    assert_no_token(r.body, json.dumps(status))


async def test_a_token_the_service_refuses_is_renewed_once(
    jp_fetch, stack, actions, experiment, write_notebook
):
    await browser_login(jp_fetch, stack)
    write_notebook()
    tokens = actions.tokens
    good = await tokens.access_token()
    calls = tokens.oidc.token_requests
    # a cached access token that the service does not accept (signature broken)
    tokens._access_token = good[:-8] + ("A" * 8 if not good.endswith("A" * 8) else "B" * 8)
    r = await post(jp_fetch, "submit", body=request(experiment))
    assert r.code == 201, r.body  # the service said 401; one refresh, one retry
    assert tokens.oidc.token_requests == calls + 1
