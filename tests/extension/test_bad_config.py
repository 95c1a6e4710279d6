"""An invalid option does not stop the extension from loading (docs/extension.md, Configuration):
``GET status`` says ``"configured": false`` with the problem, every other route answers 503 with
the same message, and the Jupyter server runs on."""

from __future__ import annotations

from typing import Any

import pytest
from evnhelpers import body_of, concrete, get, registered

# (an invalid c.EvnSubmitConfig value, a word the message must name)
BAD = {
    "issuer-not-a-url": ({"issuer_url": "ftp://login.example.org/realms/evn"}, "issuer_url"),
    "negative-size": ({"max_notebook_bytes": -1}, "max_notebook_bytes"),
    "malformed-key": ({"token_keys": ["not-a-fernet-key"]}, "EVN_TOKEN_KEYS"),
}


@pytest.fixture(params=list(BAD))
def bad(request: pytest.FixtureRequest) -> tuple[dict[str, Any], str]:
    return BAD[request.param]


@pytest.fixture
def evn_config(evn_config: dict[str, Any], bad: tuple[dict[str, Any], str]) -> dict[str, Any]:
    return evn_config | bad[0]


async def test_status_says_not_configured_and_why(jp_fetch, bad):
    r = await get(jp_fetch, "status")
    assert r.code == 200, r.body
    status = body_of(r)
    assert status["configured"] is False and status["logged_in"] is False
    assert bad[1] in status["message"] and "not valid" in status["message"]
    assert status["service"]["reachable"] is False


async def test_every_other_route_answers_503_with_the_problem(
    jp_fetch, jp_serverapp, jp_base_url, bad
):
    routes = registered(jp_serverapp, jp_base_url)
    assert len(routes) == 16  # loaded: all routes are there, none 404s
    for path, method in routes:
        if path == "status":
            continue
        kw: dict[str, Any] = {"method": method, "raise_error": False}
        if method == "POST":
            kw["body"] = '{"path": "calibration.ipynb", "device_id": "x"}'
        r = await jp_fetch("evn-submit", *concrete(path), **kw)
        assert r.code == 503, (path, method, r.code, r.body)
        if path in ("callback", "open"):  # HTML pages (the login popup, a link) show the problem
            assert bad[1] in r.body.decode()
        else:
            assert bad[1] in body_of(r)["message"], (path, r.body)
