"""The stack's parts are the real services: Keycloak's tokens and Gitea's commits."""

from __future__ import annotations

import base64
import subprocess
import uuid

import jwt
import pytest
import requests
from stackhelpers import gitea, password_grant, token_endpoint

pytestmark = pytest.mark.stack


def test_access_token_verifies_against_keycloak_jwks_and_names_the_researcher(stack):
    tokens = password_grant(stack)
    jwks = jwt.PyJWKClient(stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/certs")
    key = jwks.get_signing_key_from_jwt(tokens["access_token"])
    claims = jwt.decode(
        tokens["access_token"],
        key.key,
        algorithms=["RS256"],
        audience=stack["EVN_SERVICE_AUDIENCE"],
        issuer=stack["EVN_ISSUER_URL"],
    )
    assert claims["preferred_username"] == stack["EVN_DEMO_USER"]
    assert claims["name"] == "Demo Researcher"
    assert claims["email"] == "demo@evn-archive.test"
    assert claims["sub"]
    # a token signed by any other key is refused by the same check
    forged = jwt.encode(claims, "not-keycloaks-key-" * 4, algorithm="HS256")
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(forged, key.key, algorithms=["RS256"], audience=stack["EVN_SERVICE_AUDIENCE"])


def _refresh(stack, refresh_token):
    return requests.post(
        token_endpoint(stack),
        timeout=30,
        data={
            "grant_type": "refresh_token",
            "client_id": stack["EVN_TEST_CLIENT_ID"],
            "refresh_token": refresh_token,
        },
    )


def test_refresh_token_rotates_and_the_old_one_is_refused(stack):
    first = password_grant(stack)["refresh_token"]
    r = _refresh(stack, first)
    assert r.status_code == 200, r.text
    second = r.json()["refresh_token"]
    assert second != first
    replay = _refresh(stack, first)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_offline_token_is_issued_for_offline_access(stack):
    tokens = password_grant(stack, scope="openid offline_access")
    claims = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    assert claims["typ"] == "Offline"
    assert "offline_access" in tokens["scope"].split()


def test_disabled_researcher_gets_no_token(stack):
    r = requests.post(
        token_endpoint(stack),
        timeout=30,
        data={
            "grant_type": "password",
            "client_id": stack["EVN_TEST_CLIENT_ID"],
            "username": stack["EVN_DISABLED_USER"],
            "password": stack["EVN_DISABLED_PASSWORD"],
        },
    )
    assert r.status_code in (400, 401)


def test_gitea_commit_shows_author_and_committer_in_a_real_clone(stack, tmp_path):
    org, repo = stack["EVN_GITEA_ORG"], f"SMOKE{uuid.uuid4().hex[:8].upper()}"
    r = gitea(
        stack,
        "POST",
        f"/orgs/{org}/repos",
        json={"name": repo, "auto_init": True, "default_branch": "main"},
    )
    assert r.status_code == 201, r.text
    try:
        content = base64.b64encode(b'{"cells": []}').decode()
        r = gitea(
            stack,
            "POST",
            f"/repos/{org}/{repo}/contents",
            json={
                "message": "smoke",
                "branch": "main",
                "author": {"name": "Demo Researcher", "email": "demo@evn-archive.test"},
                "committer": {"name": "EVN notebook service", "email": "service@evn-archive.test"},
                "files": [
                    {"operation": "create", "path": "demo/smoke/smoke.ipynb", "content": content}
                ],
            },
        )
        assert r.status_code == 201, r.text
        subprocess.run(
            [
                "git",
                "clone",
                "-q",
                f"{stack['EVN_GITEA_URL']}/{org}/{repo}.git",
                str(tmp_path / "c"),
            ],
            check=True,
        )
        log = subprocess.run(
            ["git", "-C", str(tmp_path / "c"), "log", "-1", "--format=%an|%ae|%cn|%ce"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert log == (
            "Demo Researcher|demo@evn-archive.test|EVN notebook service|service@evn-archive.test"
        )
        assert (tmp_path / "c" / "demo" / "smoke" / "smoke.ipynb").read_bytes() == b'{"cells": []}'
    finally:
        gitea(stack, "DELETE", f"/repos/{org}/{repo}", admin=True)
