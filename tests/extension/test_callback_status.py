"""The login callback's status (docs/hardening.md, "Secrets and login"): 200 only when the login
succeeded; a failed one is a 400, still with the page that tells the opener why. Real Keycloak."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from evnhelpers import TEST_KEY, body_of, browser_login, closed_port, get, keycloak_login, post

pytestmark = pytest.mark.stack


@pytest.fixture
def evn_config(stack: dict[str, str], store_path: Path) -> dict[str, Any]:
    return {
        "issuer_url": stack["EVN_ISSUER_URL"],
        "client_id": stack["EVN_CLIENT_ID"],
        "service_url": f"http://127.0.0.1:{closed_port()}",
        "token_store": str(store_path),
        "token_keys": [TEST_KEY],
        "bootstrap_token_env": "EVN_TEST_NO_BOOTSTRAP_TOKEN",
        "http_timeout": 60.0,
    }


def told_opener(page: Any) -> dict[str, Any]:
    text = page.body.decode()
    found = re.search(r"var message = (\{.*\});", text)
    assert found, text
    message: dict[str, Any] = json.loads(found.group(1))
    assert "window.opener.postMessage(message, origin)" in text
    return message


@pytest.mark.parametrize(
    ("error", "words"),
    [("access_denied", "cancelled"), ("temporarily_unavailable", "reported")],
)
async def test_an_error_from_keycloak_is_a_400_and_spends_the_state(
    jp_fetch, stack, actions, error, words
):
    r = await post(jp_fetch, "login")
    state = parse_qs(urlsplit(body_of(r)["authorize_url"]).query)["state"][0]
    page = await get(jp_fetch, "callback", params={"state": state, "error": error})
    assert page.code == 400
    message = told_opener(page)
    assert message["ok"] is False and words in message["message"]
    assert state not in actions.tokens._logins  # spent: it cannot be finished afterwards


async def test_an_unknown_state_is_a_400(jp_fetch):
    page = await get(jp_fetch, "callback", params={"state": "never-issued", "code": "abc"})
    assert page.code == 400
    assert told_opener(page)["ok"] is False


async def test_a_code_keycloak_refuses_is_a_400(jp_fetch, stack, actions):
    r = await post(jp_fetch, "login")
    query = await keycloak_login(
        body_of(r)["authorize_url"], stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"]
    )
    forged = query["code"][:-4] + "abcd"  # the real state, a code Keycloak never issued
    page = await get(jp_fetch, "callback", params={"state": query["state"], "code": forged})
    assert page.code == 400
    message = told_opener(page)
    assert message["ok"] is False and "refused" in message["message"]
    assert actions.tokens.oidc.token_requests == 1  # it was asked, and said no
    assert body_of(await get(jp_fetch, "status"))["logged_in"] is False


async def test_a_successful_login_is_a_200(jp_fetch, stack):
    page = await browser_login(jp_fetch, stack)
    assert page.code == 200
    message = told_opener(page)
    assert message["ok"] is True and "demo" in message["message"]
