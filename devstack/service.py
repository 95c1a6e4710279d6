"""The notebook service, run from the project's virtual environment once it is installed there."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from . import gitea, paths, procs

MODULE = "evn_notebook_service"
# the catalogue (devstack/dachs.py); a running service started with other values is restarted
CATALOGUE_ENV = ("EVN_TAP_URL", "EVN_CATALOGUE_CODES")


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
    catalogue = {key: stack_env.get(key, "") for key in CATALOGUE_ENV}
    if procs.alive(state, "service") and ready(state):
        if state.get("service_catalogue") == catalogue:
            return
        procs.say("restarting the notebook service: the catalogue's settings changed")
        procs.stop(state, "service")
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
        EVN_SERVICE_INDEX_URL=index_url(stack_env),
        EVN_SERVICE_WEBHOOK_SECRET=webhook_secret(state),
        EVN_SERVICE_RECONCILE_SECONDS=os.environ.get("EVN_SERVICE_RECONCILE_SECONDS", "60"),
        # the test suites create hundreds of repositories as a few researchers: the abuse
        # limits of a real archive (10 new repositories a day) would refuse them
        EVN_SERVICE_MAX_NEW_REPOSITORIES=os.environ.get("EVN_SERVICE_MAX_NEW_REPOSITORIES", "0"),
        EVN_SERVICE_MAX_SUBMISSIONS=os.environ.get("EVN_SERVICE_MAX_SUBMISSIONS", "0"),
    )
    procs.say(f"starting the notebook service on 127.0.0.1:{state['ports']['service']}")
    procs.start(
        state, "service", [str(python()), "-m", MODULE], env=env, cwd=paths.STATE, marker=MODULE
    )
    state["service_catalogue"] = catalogue
    paths.save_state(state)
    procs.wait_ready("service", lambda: ready(state), state, timeout=60)
    gitea.ensure_org_hook(state, url(state) + "/api/v1/hooks/gitea", webhook_secret(state))


def index_url(stack_env: dict[str, str]) -> str:
    """PostgreSQL when devstack runs one (``EVN_DEVSTACK_POSTGRES=1``), else a SQLite file."""
    if stack_env.get("EVN_POSTGRES_URL"):
        return stack_env["EVN_POSTGRES_URL"]
    folder = paths.STATE / "service"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'index.sqlite'}"


def webhook_secret(state: dict) -> str:
    if "service_webhook_secret" not in state:
        state["service_webhook_secret"] = secrets.token_hex(24)
        paths.save_state(state)
    return str(state["service_webhook_secret"])


def env(state: dict) -> dict[str, str]:
    if not state.get("procs", {}).get("service"):
        return {}
    return {"EVN_SERVICE_URL": url(state), "EVN_SERVICE_WEBHOOK_SECRET": webhook_secret(state)}
