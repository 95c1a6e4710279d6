"""Fixtures of the server extension's tests.

``evn_config`` is the ``EvnSubmitConfig`` section of the Jupyter server under test. By default it
points at a closed port on 127.0.0.1 (nothing answers: "Keycloak / the service are down") and at a
token store in the test's temporary directory; the stack tests override it with the real stack.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from evnhelpers import TEST_KEY, closed_port, make_notebook
from jupyter_server.auth.identity import User
from tornado.web import create_signed_value

from jupyterlab_evn_submit.actions import ArchiveActions


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "evn-store" / "refresh-token"


@pytest.fixture
def evn_config(store_path: Path) -> dict[str, Any]:
    down = f"http://127.0.0.1:{closed_port()}"
    return {
        "issuer_url": down + "/realms/evn",
        "client_id": "evn-jupyterlab",
        "service_url": down,
        "token_store": str(store_path),
        "token_keys": [TEST_KEY],
        "bootstrap_token_env": "EVN_TEST_NO_BOOTSTRAP_TOKEN",
        "http_timeout": 5.0,
    }


@pytest.fixture
def jp_server_config(jp_server_config: Any, evn_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_evn_submit": True}},
        "EvnSubmitConfig": evn_config,
    }


@pytest.fixture
def actions(jp_serverapp: Any) -> ArchiveActions:
    """The server's ``ArchiveActions`` (config, token manager, service client)."""
    return jp_serverapp.web_app.settings["evn_submit"]


@pytest.fixture
def write_notebook(jp_root_dir: Path) -> Callable[..., Path]:
    def write(path: str = "calibration.ipynb", nb: Any = None) -> Path:
        target = jp_root_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(nb if nb is not None else make_notebook()))
        return target

    return write


@pytest.fixture
def jp_auth_header(jp_serverapp: Any, jp_http_port: int) -> dict[str, str]:
    """The token, plus the login cookie of one stable Jupyter user (as a browser holds it):
    without the cookie, every token-only request is a new anonymous user, and a login started
    by one request could never be finished by the next."""
    idp = jp_serverapp.identity_provider
    name = f"username-127-0-0-1-{jp_http_port}"
    value = idp.user_to_cookie(User(username="researcher", name="A Researcher"))
    signed = create_signed_value(jp_serverapp.web_app.settings["cookie_secret"], name, value)
    return {"Authorization": f"token {idp.token}", "Cookie": f"{name}={signed.decode()}"}
