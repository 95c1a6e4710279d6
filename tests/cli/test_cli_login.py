"""``login`` / ``status`` / ``logout`` of ``jupyter evn-submit`` against the real Keycloak."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import requests
from clihelpers import closed_port, device_login, run_cli
from conftest import BOOTSTRAP_ENV
from stackhelpers import password_grant

from jupyterlab_evn_submit.cli.exitcodes import CONFIGURATION, NOT_LOGGED_IN, OK, UNAVAILABLE

pytestmark = pytest.mark.stack


def keycloak_refresh(stack: dict[str, str], client_id: str, refresh_token: str) -> int:
    r = requests.post(
        stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/token",
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": refresh_token,
        },
        timeout=30,
    )
    return r.status_code


def test_device_login_stores_an_offline_login(logged_in, store_of, stack):
    env, result = logged_in
    assert result.code == OK, result
    # the person sees where to go and which code to confirm; the script sees who logged in
    assert "/realms/evn/device" in result.err and "confirm the code" in result.err
    assert "Logged in to the EVN archive as Demo Researcher (demo)" in result.out
    store = Path(env["EVN_TOKEN_STORE"])
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert b"eyJ" not in store.read_bytes()  # encrypted at rest
    login = store_of(env)
    assert login.issuer == stack["EVN_ISSUER_URL"] and login.client_id == stack["EVN_CLIENT_ID"]
    assert login.user["username"] == "demo"


def test_status_checks_the_login_at_keycloak(cli_env, stack):
    r = run_cli(cli_env, "status", "--json")
    assert r.code == OK, r
    doc = r.json()
    assert doc["logged_in"] is True
    assert doc["user"] == {
        "username": "demo",
        "name": "Demo Researcher",
        "email": "demo@evn-archive.test",
    }
    assert doc["service"] == {"url": stack["EVN_SERVICE_URL"], "reachable": True}
    human = run_cli(cli_env, "status")
    assert human.code == OK and "Logged in as Demo Researcher (demo)" in human.out
    # a second login is not needed (and does not start a device flow)
    again = run_cli(cli_env, "login")
    assert again.code == OK and "Already logged in" in again.out and "http" not in again.err


def test_status_without_login_exits_3(env_for):
    r = run_cli(env_for(), "status", "--json")
    assert r.code == NOT_LOGGED_IN, r
    assert r.json()["logged_in"] is False and r.json()["ok"] is False
    r = run_cli(env_for(), "status")
    assert "Not logged in" in r.out and "jupyter evn-submit login" in r.out


def test_unreachable_keycloak_exits_5_and_missing_issuer_7(env_for, logged_in):
    down = f"http://127.0.0.1:{closed_port()}/realms/evn"
    env = env_for(EVN_ISSUER_URL=down)
    r = run_cli(env, "login")
    assert r.code == UNAVAILABLE, r
    assert "cannot be reached" in r.err and "safe to repeat" in r.err
    env = env_for("noissuer")
    env.pop("EVN_ISSUER_URL")
    r = run_cli(env, "status")
    assert r.code == CONFIGURATION, r
    r = run_cli(env, "login", "--json")
    assert r.code == CONFIGURATION and "EVN_ISSUER_URL" in r.json()["message"]


def test_device_login_expires_after_login_timeout(env_for):
    """EVN_LOGIN_TIMEOUT limits the device code (Keycloak's own lasts 10 minutes): nobody
    confirms it, so the login ends as "expired" (exit 3) instead of waiting for Keycloak."""
    env = env_for("timeout", EVN_LOGIN_TIMEOUT="3")
    r = run_cli(env, "login", "--json", timeout=60)
    assert r.code == NOT_LOGGED_IN, r
    assert "valid for 3 s" in r.err
    assert r.json()["error"] == "not-logged-in" and "expired" in r.json()["message"]
    assert not Path(env["EVN_TOKEN_STORE"]).exists()


def test_logout_revokes_the_refresh_token(stack, env_for, store_of):
    env = env_for("logout")
    assert device_login(env, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"]).code == OK
    refresh = store_of(env).refresh_token
    r = run_cli(env, "logout", "--json")
    assert r.code == OK, r
    assert r.json() == {"ok": True, "logged_in": False, "was_logged_in": True, "revoked": True}
    assert not Path(env["EVN_TOKEN_STORE"]).exists()
    # revoked at Keycloak: the old refresh token no longer works anywhere
    assert keycloak_refresh(stack, stack["EVN_CLIENT_ID"], refresh) == 400
    assert run_cli(env, "status").code == NOT_LOGGED_IN
    again = run_cli(env, "logout")
    assert again.code == OK and "nothing to do" in again.out


def test_bootstrap_login_takes_and_rotates_the_handed_over_token(stack, env_for, store_of):
    # what JupyterHub hands over: a refresh token of the client the extension is configured with
    grant = password_grant(stack, scope="openid profile email offline_access")
    env = env_for("bootstrap", EVN_CLIENT_ID=stack["EVN_TEST_CLIENT_ID"])
    env[BOOTSTRAP_ENV] = grant["refresh_token"]
    r = run_cli(env, "login", "--bootstrap", "--json")
    assert r.code == OK, r
    assert r.json()["user"]["username"] == "demo" and r.json()["bootstrap"] == BOOTSTRAP_ENV
    stored = store_of(env)
    assert stored.client_id == stack["EVN_TEST_CLIENT_ID"]
    assert stored.refresh_token != grant["refresh_token"]  # rotated, and the new one is kept
    del env[BOOTSTRAP_ENV]
    status = run_cli(env, "status", "--json")
    assert status.code == OK and status.json()["user"]["username"] == "demo"
    assert run_cli(env, "logout").code == OK


def test_bootstrap_without_the_variable_exits_3(env_for):
    r = run_cli(env_for(), "login", "--bootstrap")
    assert r.code == NOT_LOGGED_IN, r
    assert BOOTSTRAP_ENV in r.err and "without --bootstrap" in r.err


def test_the_login_is_shared_with_a_config_file(stack, logged_in, tmp_path):
    """``c.EvnSubmitConfig`` in jupyter_server_config.py (the server's file) is honoured."""
    env = dict(logged_in[0])
    config = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.py"
    service = env.pop("EVN_SERVICE_URL")
    config.write_text(f"c.EvnSubmitConfig.service_url = {service!r}\n")
    try:
        r = run_cli(env, "status", "--json")
    finally:
        config.unlink()
    assert r.code == OK and r.json()["service"] == {"url": service, "reachable": True}, r


def test_usage_errors_exit_2(env_for):
    for args in (["frobnicate"], ["submit"], ["fetch", "EG078B"], ["submit", "x.ipynb"]):
        r = run_cli(env_for(), *args)
        assert r.code == 2, (args, r)
        assert "usage:" in r.err
    help_text = run_cli(env_for(), "--help").out
    for verb in ("login", "status", "submit", "list", "fetch", "logout"):
        assert verb in help_text
