"""Keycloak from Maven Central's keycloak-quarkus-dist zip, realm ``evn`` imported from the repo."""

from __future__ import annotations

import json
import os
import shutil
import stat
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from . import paths, procs

DIST = paths.CACHE / "keycloak" / paths.KEYCLOAK_VERSION
REALM_JSON = Path(__file__).with_name("evn-realm.json")
HOME = paths.STATE / "keycloak"


def obtain() -> None:
    if (DIST / "bin" / "kc.sh").exists():
        return
    dl = paths.CACHE / "keycloak" / "dl"
    zip_path = dl / f"keycloak-quarkus-dist-{paths.KEYCLOAK_VERSION}.zip"
    if not zip_path.exists():
        procs.run(
            [
                "mvn",
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{paths.KEYCLOAK_VERSION}:zip",
                f"-DoutputDirectory={dl}",
            ],
            f"downloading Keycloak {paths.KEYCLOAK_VERSION} from Maven Central (169 MB)",
        )
    procs.say(f"unpacking Keycloak {paths.KEYCLOAK_VERSION}")
    tmp = DIST.with_name(DIST.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(tmp)
    shutil.move(str(tmp / f"keycloak-{paths.KEYCLOAK_VERSION}"), DIST)
    shutil.rmtree(tmp, ignore_errors=True)


def _prepare_home() -> None:
    """A Keycloak home in the state folder: own bin/ and data/, the rest shared from the cache."""
    (HOME / "data" / "import").mkdir(parents=True, exist_ok=True)
    if not (HOME / "bin").exists():
        shutil.copytree(DIST / "bin", HOME / "bin")
    for script in (HOME / "bin").glob("*.sh"):
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    for part in ("lib", "conf", "providers", "themes"):
        link = HOME / part
        if not link.exists():
            link.symlink_to(DIST / part)
    shutil.copy(REALM_JSON, HOME / "data" / "import" / "evn-realm.json")


def issuer(state: dict) -> str:
    return f"http://127.0.0.1:{state['ports']['keycloak']}/realms/{paths.REALM}"


def ready(state: dict) -> bool:
    return procs.http_ok(issuer(state) + "/.well-known/openid-configuration")


def up(state: dict) -> None:
    if procs.alive(state, "keycloak") and ready(state):
        sync_redirect_uris(state)
        return
    obtain()
    _prepare_home()
    p = state["ports"]
    env = dict(
        os.environ,
        KC_BOOTSTRAP_ADMIN_USERNAME=paths.KEYCLOAK_ADMIN[0],
        KC_BOOTSTRAP_ADMIN_PASSWORD=paths.KEYCLOAK_ADMIN[1],
    )
    cmd = [
        "bash",
        str(HOME / "bin" / "kc.sh"),
        "start-dev",
        "--http-host=127.0.0.1",
        f"--http-port={p['keycloak']}",
        f"--http-management-port={p['keycloak_mgmt']}",
        "--health-enabled=true",
        "--import-realm",
    ]
    procs.say(
        f"starting Keycloak on 127.0.0.1:{p['keycloak']} (first start 80-110 s, then about 20 s)"
    )
    procs.start(state, "keycloak", cmd, env=env, cwd=HOME, marker=str(HOME))
    procs.wait_ready("keycloak", lambda: ready(state), state, timeout=420)
    sync_redirect_uris(state)


def _admin(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def sync_redirect_uris(state: dict) -> None:
    """``--import-realm`` skips a realm that exists: give the clients of an older devstack the
    redirect URIs of ``evn-realm.json`` (exact callback URIs, no wildcards)."""
    base = f"http://127.0.0.1:{state['ports']['keycloak']}"
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": paths.KEYCLOAK_ADMIN[0],
            "password": paths.KEYCLOAK_ADMIN[1],
        }
    ).encode()
    url = base + "/realms/master/protocol/openid-connect/token"
    with urllib.request.urlopen(url, data=form, timeout=30) as r:
        token = json.load(r)["access_token"]
    realm = json.loads(REALM_JSON.read_text())
    wanted = {c["clientId"]: c["redirectUris"] for c in realm["clients"]}
    clients = f"/admin/realms/{paths.REALM}/clients"
    for client in _admin(base, token, "GET", clients):
        uris = wanted.get(client["clientId"])
        if uris is None or sorted(client.get("redirectUris") or []) == sorted(uris):
            continue
        client["redirectUris"] = uris
        _admin(base, token, "PUT", f"{clients}/{client['id']}", client)
        procs.say(f"Keycloak: client {client['clientId']} now registers {', '.join(uris)}")


def env(state: dict) -> dict[str, str]:
    p = state["ports"]
    users = {
        u["username"]: u["credentials"][0]["value"]
        for u in json.loads(REALM_JSON.read_text())["users"]
    }
    return {
        "EVN_ISSUER_URL": issuer(state),
        "EVN_CLIENT_ID": "evn-jupyterlab",
        "EVN_SHORT_CLIENT_ID": "evn-jupyterlab-short",
        "EVN_TEST_CLIENT_ID": "evn-test",
        "EVN_SERVICE_AUDIENCE": "evn-notebook-service",
        "EVN_DEMO_USER": "demo",
        "EVN_DEMO_PASSWORD": users["demo"],
        "EVN_SECOND_USER": "researcher2",
        "EVN_SECOND_PASSWORD": users["researcher2"],
        "EVN_DISABLED_USER": "disabled",
        "EVN_DISABLED_PASSWORD": users["disabled"],
        "EVN_KEYCLOAK_URL": f"http://127.0.0.1:{p['keycloak']}",
        "EVN_KEYCLOAK_ADMIN_USER": paths.KEYCLOAK_ADMIN[0],
        "EVN_KEYCLOAK_ADMIN_PASSWORD": paths.KEYCLOAK_ADMIN[1],
    }
