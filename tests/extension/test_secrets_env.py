"""Secrets leave the environment at start (docs/hardening.md, "Secrets and login"): a real
``jupyter server`` started with the bootstrap refresh token, ``EVN_TOKEN_KEYS`` and
``EVN_CLIENT_SECRET`` in its environment; its kernels and terminals do not see them, and the
extension still uses them (the bootstrap token logs in, the key encrypts the store)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from serverproc import Server, isolated_env, jupyter_server

from devstack.testing import password_grant
from jupyterlab_evn_submit.tokenstore import TokenStore

pytestmark = pytest.mark.stack
BOOTSTRAP_ENV = "EVN_TEST_HUB_REFRESH_TOKEN"
SECRETS = (BOOTSTRAP_ENV, "EVN_TOKEN_KEYS", "EVN_CLIENT_SECRET")
SHOW_ENV = "import os, json; print(json.dumps(dict(os.environ)))"


@pytest.fixture(scope="module")
def server_with_secrets(
    stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Server, dict[str, str]]:
    home = tmp_path_factory.mktemp("secrets")
    grant = password_grant(stack, scope="openid profile email offline_access")
    secrets = {
        BOOTSTRAP_ENV: grant["refresh_token"],
        "EVN_TOKEN_KEYS": Fernet.generate_key().decode(),
        # the test client is public: Keycloak ignores a secret, but it must still be hidden
        "EVN_CLIENT_SECRET": "client-secret-" + uuid.uuid4().hex,
    }
    env = isolated_env(
        home,
        EVN_ISSUER_URL=stack["EVN_ISSUER_URL"],
        EVN_CLIENT_ID=stack["EVN_TEST_CLIENT_ID"],  # the client the handed-over token is for
        EVN_SERVICE_URL=stack["EVN_SERVICE_URL"],
        EVN_TOKEN_STORE=str(home / "store" / "refresh-token"),
        EVN_BOOTSTRAP_TOKEN_ENV=BOOTSTRAP_ENV,
        **secrets,
    )
    with jupyter_server(home, env) as server:
        yield server, secrets


def assert_hidden(text: str, secrets: dict[str, str]) -> None:
    """Neither a variable (``NAME=``, as ``env`` and /proc show it) nor any secret's value."""
    for name, value in secrets.items():
        assert f"{name}=" not in text, name
        assert value not in text, name


def test_a_kernel_sees_none_of_the_secrets(server_with_secrets):
    server, secrets = server_with_secrets
    seen = json.loads(server.run_in_kernel(SHOW_ENV))
    assert "EVN_ISSUER_URL" in seen  # the kernel does inherit the server's environment
    assert not set(secrets) & set(seen)
    assert_hidden("\n".join(f"{k}={v}" for k, v in seen.items()), secrets)


def test_a_kernel_cannot_read_them_from_the_servers_proc_environ(server_with_secrets):
    """/proc/<pid>/environ shows the environment a process started with, readable by every
    process of the same user: the extension wipes the secrets there too."""
    server, secrets = server_with_secrets
    code = f"print(open('/proc/{server.proc.pid}/environ', 'rb').read().decode('latin-1'))"
    seen = server.run_in_kernel(code)
    assert "EVN_ISSUER_URL=" in seen  # it is the server's environment, readable
    assert_hidden(seen, secrets)


def test_a_terminal_sees_none_of_the_secrets(server_with_secrets):
    server, secrets = server_with_secrets
    seen = server.run_in_terminal("env")
    assert "EVN_SERVICE_URL=" in seen
    assert_hidden(seen, secrets)


def test_the_removal_is_logged_without_the_values(server_with_secrets):
    server, secrets = server_with_secrets
    log = server.log_text()
    assert "removed $EVN_TEST_HUB_REFRESH_TOKEN, $EVN_TOKEN_KEYS, $EVN_CLIENT_SECRET" in log
    for value in secrets.values():
        assert value not in log


def test_the_extension_still_uses_them(server_with_secrets, tmp_path_factory):
    server, secrets = server_with_secrets
    status = server.request("GET", "/evn-submit/status").json()
    assert status["logged_in"] is True  # the bootstrap token, read before it was removed
    # a call that needs an access token: the bootstrap token is exchanged at Keycloak
    r = server.request("GET", "/evn-submit/submissions")
    assert r.status_code == 200, r.text
    status = server.request("GET", "/evn-submit/status").json()
    assert status["user"]["username"] == "demo"
    store_path = Path(server.log.parent / "store" / "refresh-token")
    # the store is encrypted with the removed EVN_TOKEN_KEYS (no key file was generated)
    login = TokenStore(store_path, [secrets["EVN_TOKEN_KEYS"]]).load()
    assert login is not None and login.user["username"] == "demo"
    assert not store_path.with_name("refresh-token.key").exists()


def test_the_command_line_takes_them_out_of_its_environment_too(monkeypatch, tmp_path):
    from jupyterlab_evn_submit.cli.context import load_config

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("EVN_BOOTSTRAP_TOKEN_ENV", BOOTSTRAP_ENV)
    monkeypatch.setenv(BOOTSTRAP_ENV, " handed-over ")
    monkeypatch.setenv("EVN_TOKEN_KEYS", key)
    monkeypatch.setenv("EVN_CLIENT_SECRET", "s3cret")
    config = load_config()
    for name in SECRETS:
        assert name not in os.environ, name
    assert config.bootstrap_token == "handed-over"
    assert config.token_keys == [key] and config.client_secret == "s3cret"
