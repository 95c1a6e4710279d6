"""A pytest plugin shared by the extension's and the service's test suites: the real stack.

``pytest_plugins = ["devstack.testing"]`` in a top-level conftest gives the ``stack`` fixture.
Standard library (and pytest) only, so the service's tests run in an environment without Jupyter.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from .paths import REPO


def _devstack(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devstack", *args],
        cwd=REPO,
        check=check,
        capture_output=True,
        text=True,
    )


def env_lines(text: str) -> dict[str, str]:
    """``export KEY=value`` lines (``devstack env``) as a dict."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        out[key] = shlex.split(value)[0] if value else ""
    return out


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    """The devstack's settings (``python3 -m devstack env``) as a dict, the stack up.

    A stack that was already up is left running; one this session started is stopped at its end,
    also when the run is interrupted.
    """
    # Anything already running belongs to someone else (a developer, CI): never stop it.
    status = _devstack("status", check=False).stdout.splitlines()
    was_up = any(line.strip() and "stopped" not in line for line in status)
    up = _devstack("up", check=False)
    if up.returncode != 0:
        pytest.fail(f"devstack up failed:\n{up.stderr[-3000:]}")
    try:
        yield env_lines(_devstack("env").stdout)
    finally:
        if not was_up and not os.environ.get("EVN_KEEP_STACK"):
            _devstack("down", check=False)


def token_endpoint(stack: dict) -> str:
    return stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/token"


def password_grant(
    stack: dict, user: str | None = None, password: str | None = None, scope: str = "openid"
) -> dict:
    """Tokens for a user through the test-only client (direct access grant)."""
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "client_id": stack["EVN_TEST_CLIENT_ID"],
            "username": user or stack["EVN_DEMO_USER"],
            "password": password or stack["EVN_DEMO_PASSWORD"],
            "scope": scope,
        }
    ).encode()
    with urllib.request.urlopen(token_endpoint(stack), data=form, timeout=30) as r:
        answer: dict = json.load(r)
    return answer
