"""The notebook service, run from the project's virtual environment once it is installed there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from . import paths, procs

MODULE = "evn_notebook_service"


def python() -> Path:
    return Path(os.environ.get("EVN_DEVSTACK_PYTHON", paths.REPO / ".venv" / "bin" / "python"))


def available() -> bool:
    py = python()
    if not py.exists():
        return False
    probe = subprocess.run([str(py), "-c", f"import {MODULE}.__main__"], capture_output=True)
    return probe.returncode == 0


def url(state: dict) -> str:
    return f"http://127.0.0.1:{state['ports']['service']}"


def ready(state: dict) -> bool:
    return procs.http_ok(url(state) + "/api/v1/health")


def up(state: dict, stack_env: dict[str, str]) -> None:
    if procs.alive(state, "service") and ready(state):
        return
    if not available():
        procs.say(
            f"notebook service skipped: {MODULE} is not importable by {python()} "
            "(run bash scripts/bootstrap.sh first)"
        )
        return
    env = dict(
        os.environ,
        **stack_env,
        EVN_SERVICE_BIND="127.0.0.1",
        EVN_SERVICE_PORT=str(state["ports"]["service"]),
    )
    procs.say(f"starting the notebook service on 127.0.0.1:{state['ports']['service']}")
    procs.start(
        state, "service", [str(python()), "-m", MODULE], env=env, cwd=paths.STATE, marker=MODULE
    )
    procs.wait_ready("service", lambda: ready(state), state, timeout=60)


def env(state: dict) -> dict[str, str]:
    return {"EVN_SERVICE_URL": url(state)} if state.get("procs", {}).get("service") else {}
