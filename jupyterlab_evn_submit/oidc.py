"""OpenID Connect with Keycloak: discovery, PKCE, and the code / device / refresh / revoke grants.

Everything here blocks (requests-oauthlib); async callers run it with ``anyio.to_thread``. Errors
are translated to the typed exceptions of ``errors.py``; URLs are logged without their query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
import requests
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2.rfc8628.clients import DeviceClient
from requests_oauthlib import OAuth2Session

from .config import LOOPBACK_HOSTS
from .errors import (
    ConfigurationError,
    IdentityProviderError,
    IdentityProviderTimeout,
    IdentityProviderUnavailable,
    LoginFailed,
    SessionEnded,
)


def log_url(url: str) -> str:
    """The URL without query and fragment (those may hold codes or tokens)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def new_pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def user_from_claims(claims: dict[str, Any]) -> dict[str, str]:
    return {
        "username": str(claims.get("preferred_username") or claims.get("sub") or ""),
        "name": str(claims.get("name") or ""),
        "email": str(claims.get("email") or ""),
    }


def unverified_claims(token: str) -> dict[str, Any]:
    """Claims of a token we just received from the token endpoint over TLS (not re-verified)."""
    try:
        return dict(jwt.decode(token, options={"verify_signature": False}))
    except jwt.PyJWTError:
        return {}


class DevicePending(Exception):
    """``authorization_pending`` or ``slow_down``: keep polling."""

    def __init__(self, slow_down: bool = False) -> None:
        super().__init__("slow_down" if slow_down else "authorization_pending")
        self.slow_down = slow_down


class DeviceFinished(Exception):
    """The device code ended without tokens: ``expired`` or ``denied``."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class OidcClient:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        scopes: list[str],
        *,
        client_secret: str = "",
        timeout: float = 30.0,
        verify: bool | str = True,
        log: logging.Logger | None = None,
    ) -> None:
        if not issuer or not client_id:
            raise ConfigurationError()
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret or None
        self.scopes = list(scopes)
        self.timeout = timeout
        self.verify = verify
        self.log = log or logging.getLogger(__name__)
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None
        self._lock = threading.Lock()
        #: calls of the token endpoint (code, device, refresh): the benchmark and tests read it
        self.token_requests = 0
        # oauthlib refuses plain http unless told; we allow it for a loopback issuer only
        # (config.check_url refuses http elsewhere). Keycloak may list the scopes in another
        # order or add default ones: that is not an error.
        if urlsplit(self.issuer).scheme == "http" and urlsplit(self.issuer).hostname in (
            LOOPBACK_HOSTS
        ):
            os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
        os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")

    # --- plumbing --------------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """The one fetch wrapper for plain (non-token) calls to Keycloak."""
        try:
            r = requests.request(method, url, timeout=self.timeout, verify=self.verify, **kwargs)
        except requests.Timeout as e:
            self.log.warning("EVN archive: %s %s timed out", method, log_url(url))
            raise IdentityProviderTimeout() from e
        except requests.RequestException as e:
            self.log.warning("EVN archive: %s %s failed: %s", method, log_url(url), e)
            raise IdentityProviderUnavailable() from e
        self.log.debug("EVN archive: %s %s -> %s", method, log_url(url), r.status_code)
        if r.status_code >= 500:
            raise IdentityProviderUnavailable()
        return r

    def _token_call(self, what: str, call: Any) -> dict[str, Any]:
        """Run one token-endpoint call of requests-oauthlib, translating its errors."""
        with self._lock:
            self.token_requests += 1
        url = log_url(self.endpoint("token_endpoint"))
        try:
            token = call()
        except requests.Timeout as e:
            self.log.warning("EVN archive: %s at %s timed out", what, url)
            raise IdentityProviderTimeout() from e
        except requests.RequestException as e:
            self.log.warning("EVN archive: %s at %s failed: %s", what, url, e)
            raise IdentityProviderUnavailable() from e
        except OAuth2Error:
            raise
        except ValueError as e:  # not JSON: an error page of a proxy or a down Keycloak
            self.log.warning("EVN archive: %s at %s: unreadable answer (%s)", what, url, e)
            raise IdentityProviderUnavailable() from e
        self.log.debug("EVN archive: %s at %s succeeded", what, url)
        return dict(token)

    def _session(self, **kwargs: Any) -> OAuth2Session:
        session = OAuth2Session(self.client_id, scope=self.scopes, **kwargs)
        session.verify = self.verify
        session.register_compliance_hook("access_token_response", _raise_for_5xx)
        session.register_compliance_hook("refresh_token_response", _raise_for_5xx)
        return session

    # --- discovery -------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.issuer + "/.well-known/openid-configuration"
            r = self._request("GET", url)
            if r.status_code != 200:
                raise IdentityProviderError(
                    f"The EVN login service has no OpenID configuration at {url} "
                    f"(HTTP {r.status_code}); ask the operator to check EVN_ISSUER_URL."
                )
            meta = r.json()
            if meta.get("issuer", "").rstrip("/") != self.issuer:
                raise IdentityProviderError(
                    f"The login service calls itself {meta.get('issuer')!r}, not {self.issuer!r}; "
                    "EVN_ISSUER_URL must be written exactly as the issuer."
                )
            self._metadata = meta
        return self._metadata

    def endpoint(self, name: str) -> str:
        value = self.metadata().get(name)
        if not value:
            raise IdentityProviderError(f"The EVN login service offers no {name}.")
        return str(value)

    # --- authorization code + PKCE ---------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, challenge: str) -> str:
        session = self._session(redirect_uri=redirect_uri)
        url, _ = session.authorization_url(
            self.endpoint("authorization_endpoint"),
            state=state,
            nonce=nonce,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        return str(url)

    def exchange_code(self, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        session = self._session(redirect_uri=redirect_uri)
        try:
            return self._token_call(
                "code exchange",
                lambda: session.fetch_token(
                    self.endpoint("token_endpoint"),
                    code=code,
                    code_verifier=verifier,
                    include_client_id=True,
                    client_secret=self.client_secret,
                    timeout=self.timeout,
                    verify=self.verify,
                ),
            )
        except OAuth2Error as e:
            raise LoginFailed(
                f"The login service refused the login ({e.error}: {e.description or ''}). "
                "Start the login again."
            ) from e

    # --- ID token --------------------------------------------------------------------------

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """Check signature, issuer, audience, expiry and the nonce we sent."""
        try:
            header = jwt.get_unverified_header(id_token)
            key = self._signing_key(str(header.get("kid", "")))
            claims = jwt.decode(
                id_token,
                key,
                algorithms=["RS256", "RS384", "RS512", "PS256", "ES256"],
                audience=self.client_id,
                issuer=self.issuer,
                leeway=60,
            )
        except jwt.PyJWTError as e:
            raise LoginFailed(f"The login answer could not be verified ({e}).") from e
        if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise LoginFailed("The login answer does not belong to this login (nonce mismatch).")
        return dict(claims)

    def _signing_key(self, kid: str) -> Any:
        for attempt in range(2):
            if self._jwks is None or attempt:
                r = self._request("GET", self.endpoint("jwks_uri"))
                self._jwks = r.json()
            for jwk in self._jwks.get("keys", []):
                if jwk.get("kid") == kid and jwk.get("use", "sig") == "sig":
                    return jwt.PyJWK.from_dict(jwk).key
        raise LoginFailed("The login answer is signed with an unknown key.")

    # --- device authorization grant --------------------------------------------------------

    def device_authorization(self, challenge: str) -> dict[str, Any]:
        data = {
            "client_id": self.client_id,
            "scope": " ".join(self.scopes),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if self.client_secret:
            data["client_secret"] = self.client_secret
        r = self._request("POST", self.endpoint("device_authorization_endpoint"), data=data)
        body = _json(r)
        if r.status_code != 200:
            raise IdentityProviderError(
                "The login service refused a device login: "
                f"{body.get('error_description') or body.get('error') or r.status_code}"
            )
        return body

    def poll_device(self, device_code: str, verifier: str) -> dict[str, Any]:
        """Tokens once the user approved; ``DevicePending`` / ``DeviceFinished`` otherwise."""
        session = OAuth2Session(client=DeviceClient(self.client_id), scope=self.scopes)
        session.verify = self.verify
        session.register_compliance_hook("access_token_response", _raise_for_5xx)
        try:
            return self._token_call(
                "device token",
                lambda: session.fetch_token(
                    self.endpoint("token_endpoint"),
                    device_code=device_code,
                    code_verifier=verifier,
                    include_client_id=True,
                    client_secret=self.client_secret,
                    timeout=self.timeout,
                    verify=self.verify,
                ),
            )
        except OAuth2Error as e:
            if e.error in ("authorization_pending", "slow_down"):
                raise DevicePending(slow_down=e.error == "slow_down") from e
            if e.error == "expired_token":
                raise DeviceFinished("expired") from e
            if e.error == "access_denied":
                raise DeviceFinished("denied") from e
            if e.error == "invalid_grant":  # Keycloak: the device code is gone
                raise DeviceFinished("expired") from e
            raise IdentityProviderError(
                f"The device login failed ({e.error}: {e.description or ''})."
            ) from e

    # --- refresh and revoke ----------------------------------------------------------------

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        session = self._session()
        extra: dict[str, Any] = {"client_id": self.client_id}
        if self.client_secret:
            extra["client_secret"] = self.client_secret
        try:
            return self._token_call(
                "refresh",
                lambda: session.refresh_token(
                    self.endpoint("token_endpoint"),
                    refresh_token=refresh_token,
                    timeout=self.timeout,
                    verify=self.verify,
                    **extra,
                ),
            )
        except OAuth2Error as e:
            if e.error == "invalid_grant":
                self.log.info("EVN archive: refresh refused (%s)", e.description)
                raise SessionEnded() from e
            raise IdentityProviderError(
                f"The login service refused to renew the login ({e.error}: {e.description or ''})."
            ) from e

    def revoke(self, refresh_token: str) -> None:
        data = {
            "client_id": self.client_id,
            "token": refresh_token,
            "token_type_hint": "refresh_token",
        }
        if self.client_secret:
            data["client_secret"] = self.client_secret
        r = self._request("POST", self.endpoint("revocation_endpoint"), data=data)
        if r.status_code != 200:
            raise IdentityProviderError(
                f"The login service could not revoke the login (HTTP {r.status_code})."
            )


def _raise_for_5xx(r: requests.Response) -> requests.Response:
    if r.status_code >= 500:
        raise requests.ConnectionError(f"HTTP {r.status_code} from {log_url(r.url)}")
    return r


def _json(r: requests.Response) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def expires_at(token: dict[str, Any], now: float | None = None) -> float:
    """When an access token should be treated as expired (a little before it really does)."""
    now = time.time() if now is None else now
    lifetime = float(token.get("expires_in") or 60)
    return now + lifetime - min(30.0, lifetime / 5)
