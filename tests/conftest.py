"""Shared fixtures: the real stack (started through devstack when it is not up) and Jupyter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]

REPO = Path(__file__).resolve().parent.parent


def _devstack(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devstack", *args],
        cwd=REPO,
        check=check,
        capture_output=True,
        text=True,
    )


def _env_lines(text: str) -> dict[str, str]:
    import shlex

    out = {}
    for line in text.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        out[key] = shlex.split(value)[0] if value else ""
    return out


@pytest.fixture(scope="session")
def stack():
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
        yield _env_lines(_devstack("env").stdout)
    finally:
        if not was_up and not os.environ.get("EVN_KEEP_STACK"):
            _devstack("down", check=False)


@pytest.fixture
def jp_server_config(jp_server_config):
    return {"ServerApp": {"jpserver_extensions": {"jupyterlab_evn_submit": True}}}
