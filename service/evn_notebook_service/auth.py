"""Keycloak access tokens verified against the issuer's JWKS (cached; refetched for a new kid)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK

from .config import ServiceConfig
from .errors import ServiceError, Unauthorized, UpstreamError, UpstreamUnavailable
from .fetch import Fetcher
from .logs import log

KEYCLOAK_CONNECTIONS = 2  # discovery and JWKS, fetched rarely and one at a time (_lock)


@dataclass(frozen=True)
class Identity:
    """Who submits: taken from the verified token alone."""

    sub: str
    username: str
    name: str
    email: str

    def as_submitter(self) -> dict[str, str]:
        return {"username": self.username, "name": self.name, "email": self.email}


class TokenVerifier:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        # its own small pool: a JWKS refresh never waits behind Gitea's traffic
        self.fetcher = Fetcher(
            "Keycloak",
            config.connect_timeout,
            config.jwks_timeout,
            read_connections=KEYCLOAK_CONNECTIONS,
            write_connections=1,
        )
        self._keys: dict[str, PyJWK] = {}
        self._jwks_url = config.jwks_url
        self._last_fetch = 0.0
        self._lock = asyncio.Lock()

    async def _discover_jwks_url(self) -> str:
        if not self._jwks_url:
            url = self.config.issuer_url + "/.well-known/openid-configuration"
            response = await self.fetcher.fetch("GET", url)
            if response.code != 200:
                raise UpstreamError(f"Keycloak's discovery document answered {response.code}")
            self._jwks_url = json.loads(response.body)["jwks_uri"]
        return self._jwks_url

    async def _refresh_keys(self) -> None:
        url = await self._discover_jwks_url()
        response = await self.fetcher.fetch("GET", url)
        if response.code != 200:
            raise UpstreamError(f"Keycloak's JWKS answered {response.code}")
        keys: dict[str, PyJWK] = {}
        for jwk in json.loads(response.body).get("keys", []):
            if jwk.get("use", "sig") != "sig" or "kid" not in jwk:
                continue
            try:
                keys[jwk["kid"]] = PyJWK(jwk)
            except jwt.PyJWTError:
                continue  # an algorithm this service does not handle (e.g. RSA-OAEP)
        self._keys = keys
        log.info("JWKS fetched", extra={"fields": {"kids": sorted(keys)}})

    async def _key_for(self, kid: str) -> PyJWK:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            wait = self._last_fetch + self.config.jwks_min_refresh_seconds - time.monotonic()
            if wait <= 0 or not self._keys:
                self._last_fetch = time.monotonic()
                try:
                    await self._refresh_keys()
                except ServiceError as e:
                    raise UpstreamUnavailable(
                        "cannot verify the token: the identity provider's keys are unreachable "
                        "and this key is not cached; try again later"
                    ) from e
        if kid not in self._keys:
            raise Unauthorized("the token is signed by a key the issuer does not publish")
        return self._keys[kid]

    async def aclose(self) -> None:
        """Close the pooled connections to Keycloak (at shutdown)."""
        await self.fetcher.aclose()

    async def warm(self) -> None:
        """Fetch the keys once at start-up (failure is logged; requests fetch again later)."""
        try:
            async with self._lock:
                self._last_fetch = time.monotonic()
                await self._refresh_keys()
        except ServiceError as e:
            log.warning("JWKS not fetched at start-up: %s", e.message)

    async def verify(self, authorization: str | None) -> Identity:
        if not authorization:
            raise Unauthorized("this request needs a Keycloak access token (Bearer)", error=None)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("the Authorization header must be 'Bearer <access token>'")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise Unauthorized("the token is not a well-formed JWT") from e
        alg = header.get("alg")
        if alg not in self.config.algorithms:
            raise Unauthorized(
                f"the token's algorithm {alg!r} is not accepted (allowed: "
                f"{', '.join(self.config.algorithms)})"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token names no signing key (kid)")
        key = await self._key_for(kid)
        claims = self._decode(token, key, alg)
        return _identity(claims)

    def _decode(self, token: str, key: PyJWK, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=self.config.audience,
                issuer=self.config.issuer_url,
                leeway=self.config.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as e:
            raise Unauthorized("the token has expired; log in again or refresh it") from e
        except jwt.ImmatureSignatureError as e:
            raise Unauthorized("the token is not valid yet (nbf/iat in the future)") from e
        except jwt.InvalidAudienceError as e:
            raise Unauthorized(
                f"the token is not meant for this service (audience must include "
                f"{self.config.audience!r})"
            ) from e
        except jwt.InvalidIssuerError as e:
            raise Unauthorized(
                f"the token was issued by another issuer (expected {self.config.issuer_url})"
            ) from e
        except jwt.InvalidSignatureError as e:
            raise Unauthorized("the token's signature does not verify") from e
        except jwt.MissingRequiredClaimError as e:
            raise Unauthorized(f"the token lacks the {e.claim!r} claim") from e
        except jwt.PyJWTError as e:
            raise Unauthorized(f"the token is invalid: {e}") from e


NOREPLY_DOMAIN = "users.noreply.evn-archive.invalid"
# an address a commit and an RO-Crate can carry: one @, no spaces, controls or angle brackets
_EMAIL = re.compile(r"[^@\s<>\x00-\x1f\x7f]+@[^@\s<>\x00-\x1f\x7f]+")


def _identity(claims: dict[str, Any]) -> Identity:
    """Who the token names. Only ``sub`` and ``preferred_username`` are required; a claim of the
    wrong type is refused (``sub``) or replaced by a fallback (``name``, ``email``), never a 500."""
    if claims.get("typ", "Bearer") != "Bearer":
        raise Unauthorized(f"a {claims.get('typ')} token cannot be used here; send an access token")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise Unauthorized(
            "the token's sub claim is missing or empty, so it names no researcher; "
            "ask the operator to check the identity provider"
        )
    username = claims.get("preferred_username")
    if not isinstance(username, str) or not username:
        raise Unauthorized("the token lacks preferred_username; ask the operator to map it")
    name = claims.get("name")
    name = name.strip() if isinstance(name, str) and name.strip() else username
    return Identity(sub=sub, username=username, name=name, email=author_email(claims, username))


def author_email(claims: dict[str, Any], username: str) -> str:
    """The token's ``email`` when the identity provider says it was verified (the JSON boolean
    ``email_verified: true``, as Keycloak sends it; the string "true" does not count), else the
    researcher's no-reply address, so nobody can sign commits with an address they do not own."""
    email = claims.get("email")
    if claims.get("email_verified") is True and isinstance(email, str):
        email = email.strip()
        if len(email) <= 254 and _EMAIL.fullmatch(email):
            return email
    return noreply_address(username)


def noreply_address(username: str) -> str:
    """``<username>@users.noreply.evn-archive.invalid``; an ``@`` in the username (Keycloak may
    use emails as usernames) becomes ``+``, so the address keeps exactly one ``@``."""
    return f"{username.replace('@', '+')}@{NOREPLY_DOMAIN}"
