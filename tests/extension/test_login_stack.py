"""Login, token cache and logout against the real Keycloak, through the server's routes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
import time
import urllib.parse
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
import requests
from cryptography.fernet import Fernet
from evnhelpers import (
    TEST_KEY,
    assert_no_token,
    body_of,
    browser_login,
    closed_port,
    drive_device_approval,
    get,
    keycloak_login,
    make_notebook,
    post,
    token_claims,
)

from jupyterlab_evn_submit.errors import LoginFailed, LoginStateInvalid, SessionEnded
from jupyterlab_evn_submit.oidc import new_pkce
from jupyterlab_evn_submit.routes import build_actions
from jupyterlab_evn_submit.tokenstore import StoredLogin, TokenStore

pytestmark = pytest.mark.stack
BOOTSTRAP_ENV = "EVN_TEST_BOOTSTRAP_REFRESH_TOKEN"


@pytest.fixture
def evn_config(stack: dict[str, str], store_path: Path) -> dict[str, Any]:
    return {
        "issuer_url": stack["EVN_ISSUER_URL"],
        "client_id": stack["EVN_CLIENT_ID"],
        # the service is not needed for logging in: a closed port proves it is not called
        "service_url": f"http://127.0.0.1:{closed_port()}",
        "token_store": str(store_path),
        "token_keys": [TEST_KEY],
        "bootstrap_token_env": BOOTSTRAP_ENV,
        "http_timeout": 60.0,
    }


def stored_refresh_token(store_path: Path) -> str:
    login = TokenStore(store_path, [TEST_KEY]).load()
    assert login is not None
    return login.refresh_token


def keycloak_refresh(stack: dict[str, str], refresh_token: str) -> requests.Response:
    return requests.post(
        stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/token",
        data={
            "grant_type": "refresh_token",
            "client_id": stack["EVN_CLIENT_ID"],
            "refresh_token": refresh_token,
        },
        timeout=30,
    )


async def test_browser_login_end_to_end(jp_fetch, stack, actions, store_path, jp_http_port):
    start = await post(jp_fetch, "login")
    authorize_url = body_of(start)["authorize_url"]
    assert authorize_url.startswith(stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/auth?")
    assert "code_challenge_method=S256" in authorize_url and "nonce=" in authorize_url
    assert "offline_access" in authorize_url
    redirect = f"http://127.0.0.1:{jp_http_port}/a%40b/evn-submit/callback"
    assert "redirect_uri=" + urllib.parse.quote(redirect, safe="") in authorize_url
    query = await keycloak_login(authorize_url, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])
    assert query["_location"].startswith(redirect + "?")
    page = await get(jp_fetch, "callback", params={"state": query["state"], "code": query["code"]})
    assert page.code == 200, page.body
    found = re.search(r"var message = (\{.*\});", page.body.decode())
    assert found is not None
    message = json.loads(found.group(1))
    assert message["ok"] is True and "as demo" in message["message"]

    status = body_of(await get(jp_fetch, "status"))
    assert status["logged_in"] is True
    assert status["user"] == {
        "username": "demo",
        "name": "Demo Researcher",
        "email": "demo@evn-archive.test",
    }
    assert actions.tokens.oidc.token_requests == 1  # one code exchange, nothing else

    # on disk: 0600, Fernet-encrypted with our key, an offline refresh token inside
    raw = store_path.read_bytes()
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    assert b"eyJ" not in raw and b"demo" not in raw
    inside = json.loads(Fernet(TEST_KEY.encode()).decrypt(raw))
    refresh = inside["refresh_token"]
    assert token_claims(refresh)["typ"] == "Offline"
    assert_no_token(start.body, page.body, json.dumps(status), secrets=(refresh, query["code"]))


async def test_replayed_state_is_refused(jp_fetch, stack):
    r = await post(jp_fetch, "login")
    query = await keycloak_login(
        body_of(r)["authorize_url"], stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"]
    )
    params = {"state": query["state"], "code": query["code"]}
    assert (await get(jp_fetch, "callback", params=params)).code == 200
    replay = await get(jp_fetch, "callback", params=params)
    assert replay.code == 400
    assert '"ok": false' in replay.body.decode() and "already used" in replay.body.decode()
    assert body_of(await get(jp_fetch, "status"))["logged_in"] is True  # the first one stands


async def test_another_users_state_is_refused_and_spent(jp_fetch, stack, actions):
    tokens = actions.tokens
    redirect = "http://127.0.0.1:1/evn-submit/callback"
    url = await tokens.start_browser_login("alice", redirect)
    query = await keycloak_login(url, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])
    with pytest.raises(LoginStateInvalid):
        await tokens.finish_browser_login("mallory", query["state"], query["code"])
    with pytest.raises(LoginStateInvalid):  # single use: spent by the failed attempt
        await tokens.finish_browser_login("alice", query["state"], query["code"])
    assert tokens.oidc.token_requests == 0  # the code was never exchanged
    assert (await tokens.status())["logged_in"] is False


async def test_expired_state_is_refused(stack, actions):
    tokens = actions.tokens
    tokens.login_timeout = 0.5
    url = await tokens.start_browser_login("alice", "http://127.0.0.1:1/evn-submit/callback")
    query = await keycloak_login(url, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])
    await asyncio.sleep(0.6)
    with pytest.raises(LoginStateInvalid):
        await tokens.finish_browser_login("alice", query["state"], query["code"])


async def test_id_token_nonce_is_checked(stack, actions):
    oidc = actions.tokens.oidc
    redirect = "http://127.0.0.1:1/evn-submit/callback"
    verifier, challenge = new_pkce()
    url = await anyio.to_thread.run_sync(
        oidc.authorization_url, redirect, "state-1", "the-nonce", challenge
    )
    query = await keycloak_login(url, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])
    token = await anyio.to_thread.run_sync(oidc.exchange_code, query["code"], redirect, verifier)
    with pytest.raises(LoginFailed, match="nonce"):
        oidc.verify_id_token(token["id_token"], "another-nonce")
    claims = oidc.verify_id_token(token["id_token"], "the-nonce")
    assert claims["preferred_username"] == "demo"
    # the same code a second time: Keycloak refuses, we say so
    with pytest.raises(LoginFailed, match="invalid_grant"):
        await anyio.to_thread.run_sync(oidc.exchange_code, query["code"], redirect, verifier)


async def test_wrong_pkce_verifier_is_refused_by_keycloak(stack, actions):
    oidc = actions.tokens.oidc
    _verifier, challenge = new_pkce()
    url = await anyio.to_thread.run_sync(
        oidc.authorization_url, "http://127.0.0.1:1/evn-submit/callback", "s", "n", challenge
    )
    query = await keycloak_login(url, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])
    other_verifier, _ = new_pkce()
    with pytest.raises(LoginFailed):
        await anyio.to_thread.run_sync(
            oidc.exchange_code,
            query["code"],
            "http://127.0.0.1:1/evn-submit/callback",
            other_verifier,
        )


async def test_device_login(jp_fetch, stack, store_path):
    start = await post(jp_fetch, "device")
    assert start.code == 200
    device = body_of(start)
    assert set(device) == {
        "device_id",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert device["verification_uri"].startswith(stack["EVN_ISSUER_URL"])
    first = body_of(await post(jp_fetch, "device", "poll", body={"device_id": device["device_id"]}))
    assert first == {"status": "pending"}
    page = await drive_device_approval(
        device["verification_uri_complete"], stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"]
    )
    assert "Device Login Successful" in page
    deadline = time.monotonic() + 30
    while True:
        await asyncio.sleep(device["interval"])
        answer = body_of(
            await post(jp_fetch, "device", "poll", body={"device_id": device["device_id"]})
        )
        if answer["status"] != "pending" or time.monotonic() > deadline:
            break
    assert answer == {
        "status": "done",
        "user": {"username": "demo", "name": "Demo Researcher", "email": "demo@evn-archive.test"},
    }
    assert token_claims(stored_refresh_token(store_path))["typ"] == "Offline"
    assert body_of(await get(jp_fetch, "status"))["user"]["username"] == "demo"
    # the device id is spent; an unknown one is simply expired
    again = body_of(await post(jp_fetch, "device", "poll", body={"device_id": device["device_id"]}))
    assert again == {"status": "expired"}
    assert_no_token(start.body, json.dumps(answer))


async def test_device_login_denied_by_the_user(jp_fetch, stack, store_path):
    device = body_of(await post(jp_fetch, "device"))
    page = await drive_device_approval(
        device["verification_uri_complete"],
        stack["EVN_DEMO_USER"],
        stack["EVN_DEMO_PASSWORD"],
        deny=True,
    )
    assert "Consent denied" in page
    deadline = time.monotonic() + 30
    while True:
        await asyncio.sleep(device["interval"])
        answer = body_of(
            await post(jp_fetch, "device", "poll", body={"device_id": device["device_id"]})
        )
        if answer["status"] != "pending" or time.monotonic() > deadline:
            break
    assert answer == {"status": "denied"}
    assert not store_path.exists()
    assert body_of(await get(jp_fetch, "status"))["logged_in"] is False


async def test_device_login_expires_after_login_timeout(jp_fetch, stack, actions, store_path):
    """Keycloak's device code lives 10 minutes; EVN_LOGIN_TIMEOUT (2 s here) is shorter and
    wins: the start says so and the poll after it answers "expired", without asking Keycloak."""
    actions.tokens.login_timeout = 2
    start = body_of(await post(jp_fetch, "device"))
    assert start["expires_in"] == 2
    first = body_of(await post(jp_fetch, "device", "poll", body={"device_id": start["device_id"]}))
    assert first == {"status": "pending"}
    await asyncio.sleep(2.5)
    calls = actions.tokens.oidc.token_requests
    answer = body_of(await post(jp_fetch, "device", "poll", body={"device_id": start["device_id"]}))
    assert answer == {"status": "expired"}
    assert actions.tokens.oidc.token_requests == calls
    assert not store_path.exists()


async def fresh_refresh_token(stack: dict[str, str], oidc: Any) -> str:
    """A refresh token of the JupyterLab client, obtained the way JupyterHub would."""
    redirect = "http://127.0.0.1:1/hub/oauth_callback"
    verifier, challenge = new_pkce()
    url = await anyio.to_thread.run_sync(oidc.authorization_url, redirect, "hub", "n", challenge)
    query = await keycloak_login(url, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])
    token = await anyio.to_thread.run_sync(oidc.exchange_code, query["code"], redirect, verifier)
    return str(token["refresh_token"])


async def test_bootstrap_from_the_hub_environment(
    jp_fetch, jp_serverapp, stack, store_path, monkeypatch
):
    hub_token = await fresh_refresh_token(
        stack, build_actions(jp_serverapp, logging.getLogger()).tokens.oidc
    )
    monkeypatch.setenv(BOOTSTRAP_ENV, hub_token)
    # the token is read (and taken out of the environment) when the server starts
    actions = build_actions(jp_serverapp, logging.getLogger("hub"))
    monkeypatch.setitem(jp_serverapp.web_app.settings, "evn_submit", actions)
    assert BOOTSTRAP_ENV not in os.environ
    status = body_of(await get(jp_fetch, "status"))
    assert status["logged_in"] is True and status["user"] is None  # usable, not used yet
    assert not store_path.exists()
    calls = actions.tokens.oidc.token_requests
    access = await actions.tokens.access_token()
    assert token_claims(access)["preferred_username"] == "demo"
    assert actions.tokens.oidc.token_requests == calls + 1
    rotated = stored_refresh_token(store_path)
    assert rotated != hub_token  # the rotated one is what we keep
    status = body_of(await get(jp_fetch, "status"))
    assert status["user"]["username"] == "demo"
    assert_no_token(json.dumps(status), secrets=(hub_token, rotated))


async def test_refresh_rotates_and_stores_before_use(actions, stack, jp_fetch, store_path):
    await browser_login(jp_fetch, stack)
    tokens = actions.tokens
    seen = [stored_refresh_token(store_path)]
    for _ in range(2):
        tokens.invalidate(await tokens.access_token())
        await tokens.access_token()
        seen.append(stored_refresh_token(store_path))
    assert len(set(seen)) == 3  # a new refresh token each time, each stored
    assert tokens.oidc.token_requests == 3  # code exchange + two refreshes
    # the newest works at Keycloak; it is the one we hold, so use it once more through us
    tokens.invalidate(await tokens.access_token())
    assert await tokens.access_token()


@pytest.fixture
def short_lived(evn_config: dict[str, Any], stack: dict[str, str]) -> None:
    evn_config["client_id"] = stack["EVN_SHORT_CLIENT_ID"]  # 10 s access tokens


async def test_expired_access_token_is_refreshed_transparently(
    short_lived, jp_fetch, stack, actions
):
    await browser_login(jp_fetch, stack)
    tokens = actions.tokens
    first = await tokens.access_token()
    assert await tokens.access_token() == first  # cached: no call
    assert tokens.oidc.token_requests == 1
    lifetime = token_claims(first)["exp"] - token_claims(first)["iat"]
    assert lifetime <= 10
    await asyncio.sleep(lifetime * 0.85)
    second = await tokens.access_token()
    assert second != first
    assert token_claims(second)["exp"] > token_claims(first)["exp"]
    assert tokens.oidc.token_requests == 2


async def test_many_callers_after_expiry_share_one_refresh(short_lived, jp_fetch, stack, actions):
    await browser_login(jp_fetch, stack)
    tokens = actions.tokens
    first = await tokens.access_token()
    await asyncio.sleep(8.5)
    results = await asyncio.gather(*(tokens.access_token() for _ in range(10)))
    assert len(set(results)) == 1 and results[0] != first
    assert tokens.oidc.token_requests == 2  # the code exchange and ONE refresh


async def test_revoked_login_means_logged_out_with_a_message(
    jp_fetch, stack, actions, store_path, write_notebook
):
    await browser_login(jp_fetch, stack)
    revoked = await anyio.to_thread.run_sync(
        lambda: requests.post(
            stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/revoke",
            data={
                "client_id": stack["EVN_CLIENT_ID"],
                "token": stored_refresh_token(store_path),
                "token_type_hint": "refresh_token",
            },
            timeout=30,
        )
    )
    assert revoked.status_code == 200
    actions.tokens.invalidate(await actions.tokens.access_token())
    path = write_notebook()
    before = path.read_bytes()
    r = await post(
        jp_fetch,
        "submit",
        body={
            "path": "calibration.ipynb",
            "experiment": "EG078B",
            "metadata": {
                "title": "t",
                "authors": [{"name": "Demo Researcher"}],
                "license": "CC-BY-4.0",
            },
            "idempotency_key": "revoked-0001",
        },
    )
    assert r.code == 401
    assert "log in again" in body_of(r)["message"].lower()
    status = body_of(await get(jp_fetch, "status"))
    assert status["logged_in"] is False and status["user"] is None
    assert "log in again" in status["message"].lower()
    assert not store_path.exists()
    assert path.read_bytes() == before


async def test_logout_revokes_at_keycloak_and_deletes_the_store(jp_fetch, stack, store_path):
    await browser_login(jp_fetch, stack)
    refresh = stored_refresh_token(store_path)
    r = await post(jp_fetch, "logout")
    assert r.code == 200 and body_of(r) == {"logged_in": False}
    assert not store_path.exists()
    dead = await anyio.to_thread.run_sync(keycloak_refresh, stack, refresh)
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    status = body_of(await get(jp_fetch, "status"))
    assert status["logged_in"] is False and status["message"] is None


async def test_a_restart_keeps_the_login(jp_fetch, stack, jp_serverapp):
    await browser_login(jp_fetch, stack)
    # what the server builds at start: fresh memory, the same configuration and store
    restarted = build_actions(jp_serverapp, logging.getLogger("restarted"))
    status = await restarted.status()
    assert status["logged_in"] is True and status["user"]["username"] == "demo"
    access = await restarted.tokens.access_token()
    assert token_claims(access)["preferred_username"] == "demo"
    assert restarted.tokens.oidc.token_requests == 1  # one refresh from the stored token


async def test_invalid_grant_from_a_stale_copy_logs_out(actions, stack, jp_fetch, store_path):
    """A refresh token that Keycloak no longer accepts (here: one already rotated away)."""
    await browser_login(jp_fetch, stack)
    tokens = actions.tokens
    old = stored_refresh_token(store_path)
    tokens.invalidate(await tokens.access_token())
    await tokens.access_token()  # rotates: `old` is now spent
    TokenStore(store_path, [TEST_KEY]).save(
        StoredLogin(old, tokens.oidc.issuer, tokens.oidc.client_id, {"username": "demo"})
    )
    tokens.invalidate(await tokens.access_token())
    with pytest.raises(SessionEnded):
        await tokens.access_token()
    assert not store_path.exists()
    assert (await tokens.status())["logged_in"] is False


def test_notebook_helper_is_valid():
    import nbformat

    nbformat.validate(make_notebook())
