"""The routes without the stack: registration, authentication, XSRF, and the local checks of a
submission. Keycloak and the service are a closed port here ("down")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from evnhelpers import TEST_KEY, body_of, concrete, get, make_notebook, post, registered

from jupyterlab_evn_submit.tokenstore import StoredLogin, TokenStore

# (path under evn-submit/, method): exactly what docs/architecture.md promises
DOCUMENTED = {
    ("status", "GET"),
    ("login", "POST"),
    ("callback", "GET"),
    ("device", "POST"),
    ("device/poll", "POST"),
    ("logout", "POST"),
    ("preview", "GET"),
    ("submit", "POST"),
    ("submissions", "GET"),
    ("search", "GET"),
    ("observation", "GET"),
    ("experiments/{code}/notebooks", "GET"),
    ("experiments/{code}/notebooks/{owner}/{name}/versions", "GET"),
    ("open-copy", "POST"),
    ("diff", "GET"),
    ("open", "GET"),
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _group(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    assert m is not None, (pattern, text)
    return m.group(1)


def test_the_registered_routes_are_exactly_the_documented_ones(jp_serverapp, jp_base_url):
    routes = registered(jp_serverapp, jp_base_url)
    assert set(routes) == DOCUMENTED
    # GETs change nothing: every state change is a POST
    assert {m for (_p, m) in routes} == {"GET", "POST"}


async def test_every_route_refuses_anonymous_callers(jp_fetch, jp_serverapp, jp_base_url):
    for path, method in registered(jp_serverapp, jp_base_url):
        kw: dict[str, Any] = {"method": method, "headers": {"Authorization": "", "Cookie": ""}}
        if method == "POST":
            kw["body"] = "{}"
        r = await jp_fetch(
            "evn-submit", *concrete(path), raise_error=False, follow_redirects=False, **kw
        )
        if path in ("callback", "open"):  # HTML pages: the browser goes to Jupyter's login page
            assert r.code == 302 and "/login" in r.headers["Location"], (path, r.code)
        else:
            assert r.code == 403, (path, method, r.code)


async def test_every_state_change_needs_the_xsrf_token(
    jp_fetch, jp_serverapp, jp_base_url, jp_auth_header
):
    cookie = jp_auth_header["Cookie"]  # Jupyter's login cookie, as a browser holds it
    posts = [p for (p, m) in registered(jp_serverapp, jp_base_url) if m in STATE_CHANGING]
    assert len(posts) == 6
    for path in posts:
        parts = concrete(path)
        # logged in by cookie (as a browser is) but without the XSRF token: refused
        r = await jp_fetch(
            "evn-submit",
            *parts,
            method="POST",
            body="{}",
            raise_error=False,
            headers={"Authorization": "", "Cookie": cookie},
        )
        assert r.code == 403 and "_xsrf" in r.body.decode(), (path, r.code, r.body)
        # the same cookie with a matching XSRF token gets past the check (whatever comes next)
        r = await jp_fetch(
            "evn-submit",
            *parts,
            method="POST",
            body="{}",
            raise_error=False,
            headers={
                "Authorization": "",
                "Cookie": f"{cookie}; _xsrf=0123456789abcdef",
                "X-XSRFToken": "0123456789abcdef",
            },
        )
        assert r.code != 403 and "_xsrf" not in r.body.decode(), (path, r.code, r.body)


async def test_status_when_logged_out_and_everything_is_down(jp_fetch):
    r = await get(jp_fetch, "status")
    assert r.code == 200
    status = body_of(r)
    assert status["logged_in"] is False and status["user"] is None
    assert status["configured"] is True
    assert status["service"]["reachable"] is False
    assert status["issuer"].endswith("/realms/evn")


async def test_login_with_keycloak_down_is_a_clear_503(jp_fetch):
    r = await post(jp_fetch, "login")
    assert r.code == 503
    assert "cannot be reached" in body_of(r)["message"]


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ({"state": "never-issued", "code": "abc"}, "not valid any more"),
        ({"state": "", "code": "abc"}, "not valid any more"),
        ({"state": "x", "error": "access_denied"}, "cancelled"),
    ],
)
async def test_callback_page_reports_failure_to_its_opener_only(
    jp_fetch, jp_http_port, query, expect
):
    r = await get(jp_fetch, "callback", params=query)
    page = r.body.decode()
    assert r.headers["Content-Type"].startswith("text/html")
    assert expect in page
    message = json.loads(_group(r"var message = (\{.*\});", page))
    assert message == {
        "source": "jupyterlab-evn-submit",
        "type": "login",
        "ok": False,
        "message": message["message"],
    }
    origin = json.loads(_group(r"var origin = (\".*\");", page))
    assert origin == f"http://127.0.0.1:{jp_http_port}"  # a fixed target origin, never "*"
    assert "postMessage(message, origin)" in page and '"*"' not in page


async def test_preview_reports_sizes_of_each_policy(jp_fetch, write_notebook):
    write_notebook("work/calibration.ipynb", make_notebook(3, 20_000))
    keep = body_of(await get(jp_fetch, "preview", params={"path": "work/calibration.ipynb"}))
    strip = body_of(
        await get(
            jp_fetch, "preview", params={"path": "work/calibration.ipynb", "output_policy": "strip"}
        )
    )
    large = body_of(
        await get(
            jp_fetch,
            "preview",
            params={
                "path": "work/calibration.ipynb",
                "output_policy": "strip-large",
                "output_budget": "1000",
            },
        )
    )
    assert keep["stripped_outputs"] == 0 and keep["size"] > 60_000
    assert strip["stripped_outputs"] == 3 and strip["size"] < 5_000
    assert large["stripped_outputs"] == 3 and strip["size"] < large["size"] < keep["size"]
    assert keep["limit"] == strip["limit"] > 0


def submission(path: str = "calibration.ipynb", **over: Any) -> dict[str, Any]:
    return {
        "path": path,
        "experiment": "EG078B",
        "metadata": {
            "title": "Amplitude calibration",
            "authors": [{"name": "Demo Researcher"}],
            "license": "CC-BY-4.0",
        },
        "output_policy": "keep",
        "message": "first version",
        "idempotency_key": "test-key-0001",
    } | over


@pytest.mark.parametrize(
    ("override", "status", "text"),
    [
        ({"path": "missing.ipynb"}, 404, "not found"),
        ({"path": "notes.txt"}, 400, ".ipynb"),
        ({"path": "broken.ipynb"}, 422, "not a Jupyter notebook"),
        ({"experiment": "../etc"}, 400, "experiment code"),
        ({"metadata": {}}, 400, "title"),
        ({"output_policy": "zip"}, 400, "output policy"),
    ],
)
async def test_submit_refuses_bad_requests_before_any_network_call(
    jp_fetch, write_notebook, jp_root_dir, actions, override, status, text
):
    write_notebook()
    (jp_root_dir / "broken.ipynb").write_text("{ not json")
    r = await post(jp_fetch, "submit", body=submission(**override))
    assert r.code == status, r.body
    assert text in body_of(r)["message"]
    assert actions.tokens.oidc.token_requests == 0


@pytest.fixture
def evn_config(evn_config: dict[str, Any]) -> dict[str, Any]:
    return evn_config | {"max_notebook_bytes": 50_000}


async def test_too_large_is_413_before_any_network_call(jp_fetch, write_notebook, actions):
    path = write_notebook(nb=make_notebook(3, 30_000))
    before = path.read_bytes()
    r = await post(jp_fetch, "submit", body=submission())
    assert r.code == 413
    message = body_of(r)["message"]
    assert "at most 50 kB" in message
    assert "Strip large outputs" in message
    assert actions.tokens.oidc.token_requests == 0  # Keycloak (down) was never asked
    assert path.read_bytes() == before
    # the same notebook with its outputs stripped fits, and only then the login is needed
    r = await post(jp_fetch, "submit", body=submission(output_policy="strip"))
    assert r.code == 401 and "log in" in body_of(r)["message"].lower()


async def test_submit_with_keycloak_down_keeps_login_and_notebook(
    jp_fetch, write_notebook, store_path: Path, actions
):
    TokenStore(store_path, [TEST_KEY]).save(
        StoredLogin(
            "a-refresh-token", actions.config.issuer_url, "evn-jupyterlab", {"username": "demo"}
        )
    )
    path = write_notebook()
    before = path.read_bytes()
    r = await post(jp_fetch, "submit", body=submission())
    assert r.code == 503
    assert "cannot be reached" in body_of(r)["message"]
    assert "nothing was submitted" in body_of(r)["message"]
    assert path.read_bytes() == before
    assert store_path in list(store_path.parent.iterdir())  # an outage is not a logout
    status = body_of(await get(jp_fetch, "status"))
    assert status["logged_in"] is True and status["user"]["username"] == "demo"


async def test_bodies_that_are_not_json_objects_are_400(jp_fetch):
    r = await jp_fetch("evn-submit", "submit", method="POST", body="[1]", raise_error=False)
    assert r.code == 400 and "JSON object" in body_of(r)["message"]
    r = await jp_fetch("evn-submit", "open-copy", method="POST", body="{", raise_error=False)
    assert r.code == 400 and "not JSON" in body_of(r)["message"]


def _write_garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"gAAAAAB-this-is-not-a-fernet-token")


async def test_a_corrupt_store_is_logged_out_not_a_crash(jp_fetch, store_path: Path, caplog):
    await anyio.to_thread.run_sync(_write_garbage, store_path)
    r = await get(jp_fetch, "status")
    assert r.code == 200
    assert body_of(r)["logged_in"] is False
    assert "cannot be decrypted" in caplog.text or "corrupt" in caplog.text
    r = await post(jp_fetch, "submit", body=submission())
    assert r.code in (401, 404)  # not logged in (or no notebook): never a 500
