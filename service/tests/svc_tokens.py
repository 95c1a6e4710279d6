"""Tokens for the token tests: a signing key registered in the real realm, and forgeries."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class RealmKey:
    """An extra RSA key added to the realm's key providers (low priority: Keycloak keeps signing
    with its own). Keycloak publishes it in its JWKS, so tokens signed with it are tokens of that
    issuer whose claims a test chooses: expired, another audience, not yet valid…"""

    def __init__(self, stack: dict[str, str]) -> None:
        self.stack = stack
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = ""
        self.component = ""

    def _admin(self) -> dict[str, str]:
        r = requests.post(
            self.stack["EVN_KEYCLOAK_URL"] + "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": self.stack["EVN_KEYCLOAK_ADMIN_USER"],
                "password": self.stack["EVN_KEYCLOAK_ADMIN_PASSWORD"],
            },
            timeout=30,
        )
        r.raise_for_status()
        return {"Authorization": "Bearer " + r.json()["access_token"]}

    def add(self) -> RealmKey:
        admin = self._admin()
        base = self.stack["EVN_KEYCLOAK_URL"] + "/admin/realms/evn"
        realm_id = requests.get(base, headers=admin, timeout=30).json()["id"]
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        r = requests.post(
            base + "/components",
            headers=admin,
            timeout=30,
            json={
                "name": f"evn-service-tests-{uuid.uuid4().hex[:8]}",
                "providerId": "rsa",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm_id,
                "config": {
                    "priority": ["1"],
                    "enabled": ["true"],
                    "active": ["true"],
                    "algorithm": ["RS256"],
                    "privateKey": [pem],
                },
            },
        )
        assert r.status_code == 201, r.text
        self.component = r.headers["Location"].rsplit("/", 1)[1]
        n = _b64(self.key.public_key().public_numbers().n.to_bytes(256, "big"))
        certs = requests.get(
            self.stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/certs", timeout=30
        ).json()
        self.kid = next(k["kid"] for k in certs["keys"] if k.get("n") == n)
        return self

    def remove(self) -> None:
        if self.component:
            requests.delete(
                self.stack["EVN_KEYCLOAK_URL"] + f"/admin/realms/evn/components/{self.component}",
                headers=self._admin(),
                timeout=30,
            )

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, **header})


def claims_of(token: str, **changes: Any) -> dict[str, Any]:
    """A real token's claims, fresh times, with ``changes`` (None deletes a claim)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now, exp=now + 300, jti=str(uuid.uuid4()))
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def unsigned(claims: dict[str, Any], kid: str) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def hs256_with_public_key(claims: dict[str, Any], jwk: dict[str, Any]) -> str:
    """The classic confusion: HMAC "signed" with the issuer's public key as the secret."""
    secret = json.dumps(jwk).encode()
    header = {"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]}
    import hashlib
    import hmac

    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def foreign_key_token(claims: dict[str, Any], kid: str) -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, other, algorithm="RS256", headers={"kid": kid})
