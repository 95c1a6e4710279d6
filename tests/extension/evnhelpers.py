"""Helpers of the server extension's tests (importable; conftest.py holds the fixtures)."""

from __future__ import annotations

import json
import re
import socket
import urllib.parse
from collections.abc import Awaitable
from typing import Any

import anyio.to_thread
import nbformat
from cryptography.fernet import Fernet
from stackhelpers import approve_device, browser_session, submit_login_form
from tornado.routing import PathMatches, Router, Rule
from tornado.web import RequestHandler

TEST_KEY = Fernet.generate_key().decode()
# generous: on a loaded 2-core machine a real Gitea commit can take many seconds
REQUEST_TIMEOUT = 180


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def make_notebook(cells: int = 3, output_bytes: int = 10, executed: bool = True) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# Amplitude calibration of EG078B"))
    for i in range(cells):
        cell = nbformat.v4.new_code_cell(f"print({i})", execution_count=i + 1 if executed else None)
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="x" * output_bytes + "\n")
        ]
        nb.cells.append(cell)
    return nb


def post(jp_fetch: Any, *parts: str, body: Any = None, **kw: Any) -> Awaitable[Any]:
    kw.setdefault("request_timeout", REQUEST_TIMEOUT)
    return jp_fetch(
        "evn-submit", *parts, method="POST", body=json.dumps(body or {}), raise_error=False, **kw
    )


def get(jp_fetch: Any, *parts: str, **kw: Any) -> Awaitable[Any]:
    kw.setdefault("request_timeout", REQUEST_TIMEOUT)
    return jp_fetch("evn-submit", *parts, raise_error=False, **kw)


def body_of(response: Any) -> Any:
    return json.loads(response.body)


async def keycloak_login(
    authorize_url: str, user: str, password: str, session: Any = None
) -> dict[str, str]:
    """Drive Keycloak's login form like a browser; the query of the redirect to the callback."""
    s = session or browser_session()
    location = await anyio.to_thread.run_sync(submit_login_form, s, authorize_url, user, password)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    query["_location"] = location
    return query


async def browser_login(
    jp_fetch: Any, stack: dict[str, str], user: str = "", password: str = ""
) -> Any:
    """The whole browser login through the server's routes; returns the callback's response."""
    r = await post(jp_fetch, "login")
    assert r.code == 200, r.body
    authorize_url = body_of(r)["authorize_url"]
    query = await keycloak_login(
        authorize_url, user or stack["EVN_DEMO_USER"], password or stack["EVN_DEMO_PASSWORD"]
    )
    return await get(jp_fetch, "callback", params={"state": query["state"], "code": query["code"]})


NO_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{10,}")


def assert_no_token(*bodies: Any, secrets: tuple[str, ...] = ()) -> None:
    """No JWT (access, ID or Keycloak refresh token) and no given secret in any response body."""
    for body in bodies:
        text = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
        assert not NO_TOKEN.search(text), text[:300]
        for secret in secrets:
            assert secret not in text


def token_claims(token: str) -> dict[str, Any]:
    import jwt

    return dict(jwt.decode(token, options={"verify_signature": False}))


async def drive_device_approval(
    verification_uri_complete: str, user: str, password: str, *, deny: bool = False
) -> str:
    """Approve (or deny) a device login on Keycloak's own pages, as a person would."""
    return await anyio.to_thread.run_sync(
        lambda: approve_device(verification_uri_complete, user, password, deny=deny)
    )


# --- the registered routes ----------------------------------------------------------------

SAMPLES = {"code": "EG078B", "owner": "demo", "name": "calibration.ipynb"}


def _rules(router: Any) -> list[tuple[str, type[RequestHandler]]]:
    found: list[tuple[str, type[RequestHandler]]] = []
    for rule in getattr(router, "rules", []):
        assert isinstance(rule, Rule)
        if isinstance(rule.target, Router):
            found += _rules(rule.target)
        elif isinstance(rule.matcher, PathMatches) and isinstance(rule.target, type):
            found.append((rule.matcher.regex.pattern, rule.target))
    return found


def registered(serverapp: Any, base_url: str) -> dict[tuple[str, str], type[RequestHandler]]:
    """Every (documented-style path, method) the server answers under evn-submit/."""
    prefix = re.escape(base_url) + "evn-submit/"
    out = {}
    for pattern, handler in _rules(serverapp.web_app.default_router):
        if not pattern.startswith(prefix):
            continue
        path = pattern[len(prefix) :].rstrip("$")
        for name in ("{code}", "{owner}", "{name}"):
            path = path.replace("([^/]+)", name, 1)
        for method in RequestHandler.SUPPORTED_METHODS:
            impl = getattr(handler, method.lower(), None)
            # ours: not RequestHandler's 405 stub, not APIHandler's CORS preflight (OPTIONS)
            if impl is not None and impl.__module__.startswith("jupyterlab_evn_submit"):
                out[(path, method)] = handler
    return out


def concrete(path: str) -> list[str]:
    """A documented path with sample values, as URL segments."""
    return path.format(**SAMPLES).split("/")
