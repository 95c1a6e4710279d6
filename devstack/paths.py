"""Where things live: versions, the download/build cache, the per-checkout state."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

KEYCLOAK_VERSION = "26.7.3"
GITEA_VERSION = "1.26.0"
NODE_FOR_GITEA = "22.23.3"  # Gitea's frontend build needs Node >= 22.18
PNPM_VERSION = "10.33.0"

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("EVN_DEVSTACK_CACHE", Path.home() / ".cache" / "jupyterlab-evn-submit"))
STATE = Path(os.environ.get("EVN_DEVSTACK_STATE", REPO / ".devstack"))
LOGS = STATE / "logs"

# Preferred ports; a busy one is replaced by a free one the first time, then kept.
DEFAULT_PORTS = {
    "keycloak": 8180,
    "keycloak_mgmt": 9180,
    "gitea": 3180,
    "service": 8190,
}

REALM = "evn"
KEYCLOAK_ADMIN = ("admin", "evn-devstack-admin")
GITEA_ORG = "EVN"
GITEA_ADMIN = "evn-admin"
GITEA_BOT = "evn-archive-bot"
BOT_SCOPES = "write:organization,write:repository,read:user"


def load_state() -> dict:
    try:
        return json.loads((STATE / "state.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}


def save_state(state: dict) -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    tmp = STATE / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    os.chmod(tmp, 0o600)
    tmp.replace(STATE / "state.json")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ports(state: dict) -> dict[str, int]:
    """The stack's ports: configured (EVN_DEVSTACK_<NAME>_PORT), remembered, or picked now."""
    chosen = state.setdefault("ports", {})
    for name, preferred in DEFAULT_PORTS.items():
        env = os.environ.get(f"EVN_DEVSTACK_{name.upper()}_PORT")
        if env:
            chosen[name] = int(env)
        elif name not in chosen:
            taken = set(chosen.values())
            chosen[name] = (
                preferred if preferred not in taken and port_free(preferred) else free_port()
            )
    return chosen
