"""Login hardening against real ``jupyter server`` processes and the real Keycloak
(docs/hardening.md, "Secrets and login"): a logout survives a restart with the same bootstrap
token still handed over; Keycloak registers exact callback URIs; behind a trusted TLS proxy the
redirect URI is the public https one."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from serverproc import Server, isolated_env, jupyter_server

from devstack.testing import password_grant

pytestmark = pytest.mark.stack
BOOTSTRAP_ENV = "EVN_TEST_HUB_REFRESH_TOKEN"
REALM = Path(__file__).parents[2] / "devstack" / "evn-realm.json"


def hub_token(stack: dict[str, str]) -> str:
    """A refresh token as JupyterHub would hand it over (the test client's password grant)."""
    return str(password_grant(stack, scope="openid profile email offline_access")["refresh_token"])


STORE_KEY = Fernet.generate_key().decode()


def server_env(stack: dict[str, str], home: Path, **extra: str) -> dict[str, str]:
    """The test client (whose tokens the password grant gives), a store shared by restarts."""
    settings = {
        "EVN_ISSUER_URL": stack["EVN_ISSUER_URL"],
        "EVN_CLIENT_ID": stack["EVN_TEST_CLIENT_ID"],
        # (only the submissions list needs the service)
        "EVN_SERVICE_URL": stack.get("EVN_SERVICE_URL", "http://127.0.0.1:1"),
        "EVN_TOKEN_STORE": str(home.parent / "store" / "refresh-token"),
        "EVN_TOKEN_KEYS": STORE_KEY,
        "EVN_BOOTSTRAP_TOKEN_ENV": BOOTSTRAP_ENV,
    }
    return isolated_env(home, **(settings | extra))


def start(
    stack: dict[str, str], home: Path, *args: str, **extra: str
) -> AbstractContextManager[Server]:
    return jupyter_server(home, server_env(stack, home, **extra), *args)


def status(server: Server) -> dict:
    r = server.request("GET", "/evn-submit/status")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_logout_survives_a_restart_with_the_same_bootstrap_token(stack, tmp_path):
    token = hub_token(stack)
    with start(stack, tmp_path / "first", **{BOOTSTRAP_ENV: token}) as server:
        assert status(server)["logged_in"] is True
        r = server.request("GET", "/evn-submit/submissions")  # imports the token
        assert r.status_code == 200, r.text
        assert status(server)["user"]["username"] == "demo"
        assert server.request("POST", "/evn-submit/logout").status_code == 200
    # the restart: the same store, JupyterHub still hands over the same token
    with start(stack, tmp_path / "second", **{BOOTSTRAP_ENV: token}) as server:
        assert status(server)["logged_in"] is False
        r = server.request("GET", "/evn-submit/submissions")
        assert r.status_code == 401, r.text
        assert "log in" in r.json()["message"].lower()
    # a new JupyterHub login hands over a new token: that one is imported
    with start(stack, tmp_path / "third", **{BOOTSTRAP_ENV: hub_token(stack)}) as server:
        assert status(server)["logged_in"] is True
        assert server.request("GET", "/evn-submit/submissions").status_code == 200
        assert status(server)["user"]["username"] == "demo"
    imported = (tmp_path / "store" / "refresh-token.imported").read_text()
    assert len(imported.split()) == 2 and token not in imported  # hashes, never the tokens


def test_a_logout_before_the_token_was_used_also_survives_a_restart(stack, tmp_path):
    token = hub_token(stack)
    with start(stack, tmp_path / "first", **{BOOTSTRAP_ENV: token}) as server:
        assert status(server)["logged_in"] is True  # waiting, not used yet
        assert server.request("POST", "/evn-submit/logout").status_code == 200
    with start(stack, tmp_path / "second", **{BOOTSTRAP_ENV: token}) as server:
        assert status(server)["logged_in"] is False


# --- exact callback URIs -------------------------------------------------------------------


def login_redirect(stack: dict[str, str], server: Server, **headers: str) -> tuple[str, str]:
    """(the redirect_uri in the authorize URL that ``POST login`` returns, that URL)."""
    r = server.request("POST", "/evn-submit/login", headers=headers)
    assert r.status_code == 200, r.text
    url = r.json()["authorize_url"]
    assert url.startswith(stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/auth?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return query["redirect_uri"][0], url


def keycloak_accepts(url: str) -> bool:
    """Keycloak shows its login page (the redirect URI is registered), not its error page."""
    r = requests.get(url, allow_redirects=False, timeout=30)
    refused = r.status_code == 400 and "redirect_uri" in r.text
    assert r.status_code == 200 or refused, (r.status_code, r.text[:500])
    return r.status_code == 200


def authorize_url(stack: dict[str, str], redirect_uri: str) -> str:
    query = {
        "client_id": stack["EVN_CLIENT_ID"],
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": uuid.uuid4().hex,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    return (
        stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/auth?" + urllib.parse.urlencode(query)
    )


def test_the_realm_registers_exact_redirect_uris_only():
    realm = json.loads(REALM.read_text())
    for client in realm["clients"]:
        for uri in client["redirectUris"]:
            assert "*" not in uri, (client["clientId"], uri)


def test_keycloak_takes_the_callback_of_a_server_on_any_loopback_port(stack, tmp_path):
    """RFC 8252 7.3: Keycloak ignores the port of a loopback redirect URI, so the exact
    http://127.0.0.1/evn-submit/callback fits a server on any (random) port."""
    with start(stack, tmp_path / "lab", EVN_CLIENT_ID=stack["EVN_CLIENT_ID"]) as server:
        redirect, url = login_redirect(stack, server)
        assert redirect == server.url + "/evn-submit/callback"
        assert keycloak_accepts(url)
    for other in (
        "http://127.0.0.1:8888/evn-submit/callback/../../elsewhere",
        "http://127.0.0.1:8888/elsewhere/evn-submit/callback",
        "http://127.0.0.1:8888/evn-submit/callbackx",
        "http://evil.example/evn-submit/callback",
        "https://127.0.0.1.evil.example/evn-submit/callback",
    ):
        assert not keycloak_accepts(authorize_url(stack, other)), other


PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "portal.example.org"}


def test_behind_a_trusted_tls_proxy_the_redirect_uri_is_https(stack, tmp_path):
    trusted = ("--ServerApp.trust_xheaders=True",)
    with start(stack, tmp_path / "lab", *trusted, EVN_CLIENT_ID=stack["EVN_CLIENT_ID"]) as server:
        redirect, _ = login_redirect(stack, server, **PROXY)
        assert redirect == "https://portal.example.org/evn-submit/callback"
        # a forwarded "host" that is not a host name is ignored; the scheme still counts
        forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example/x?y"}
        redirect, _ = login_redirect(stack, server, **forged)
        assert redirect == server.url.replace("http:", "https:") + "/evn-submit/callback"
        # the callback page posts to the public origin too
        page = server.request(
            "GET",
            "/evn-submit/callback",
            params={"state": "x", "error": "access_denied"},
            headers=PROXY,
        )
        assert page.status_code == 400 and 'var origin = "https://portal.example.org";' in page.text


def test_without_trust_xheaders_the_forwarded_headers_are_ignored(stack, tmp_path):
    with start(stack, tmp_path / "lab", EVN_CLIENT_ID=stack["EVN_CLIENT_ID"]) as server:
        redirect, _ = login_redirect(stack, server, **PROXY)
        assert redirect == server.url + "/evn-submit/callback"
        page = server.request(
            "GET",
            "/evn-submit/callback",
            params={"state": "x", "error": "access_denied"},
            headers=PROXY,
        )
        assert f'var origin = "{server.url}";' in page.text


def test_callback_url_is_one_uri_for_all_users_of_a_hub(stack, tmp_path):
    hub = "http://127.0.0.1/hub/user-redirect/evn-submit/callback"
    with start(
        stack, tmp_path / "lab", EVN_CLIENT_ID=stack["EVN_CLIENT_ID"], EVN_CALLBACK_URL=hub
    ) as server:
        redirect, url = login_redirect(stack, server, **PROXY)
        assert redirect == hub
        assert keycloak_accepts(url)  # devstack's realm registers it, as a portal's would
