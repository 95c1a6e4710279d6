"""``TokenManager``: the login state of this Jupyter server.

- the refresh token lives only in the encrypted ``TokenStore``; a rotated one is stored before the
  new access token is handed out;
- the access token lives in memory until shortly before it expires;
- exactly one refresh is in flight per process (an ``asyncio.Lock``) and per store (a file lock,
  for ``jupyter evn-submit`` sharing the store);
- ``invalid_grant`` means logged out, with a message asking to log in again;
- a refresh token handed over by JupyterHub (the bootstrap token) is taken at construction (the
  caller has removed it from the environment) and imported at most once: the store remembers its
  hash, so a logout survives a restart with the same token still handed over.

No Tornado here: the routes and the command line both use it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread

from .errors import (
    BadRequest,
    BootstrapTokenMissing,
    EvnSubmitError,
    IdentityProviderError,
    LoginStateInvalid,
    NotLoggedIn,
    SessionEnded,
)
from .oidc import (
    DeviceFinished,
    DevicePending,
    OidcClient,
    expires_at,
    new_pkce,
    unverified_claims,
    user_from_claims,
)
from .tokenstore import StoredLogin, TokenStore

T = TypeVar("T")


@dataclass
class PendingLogin:
    owner: str  # the Jupyter user who started it
    verifier: str
    nonce: str
    redirect_uri: str
    expires: float


@dataclass
class PendingDevice:
    owner: str
    device_code: str
    verifier: str
    interval: float
    expires: float
    next_poll: float = 0.0


class TokenManager:
    def __init__(
        self,
        oidc: OidcClient,
        store: TokenStore,
        *,
        login_timeout: float = 600.0,
        bootstrap_env: str = "",
        bootstrap_token: str = "",
        log: logging.Logger | None = None,
    ) -> None:
        self.oidc = oidc
        self.store = store
        self.login_timeout = login_timeout
        self.bootstrap_env = bootstrap_env
        self._handed_over_token = bootstrap_token.strip() or None
        self.log = log or logging.getLogger(__name__)
        self._access_token: str | None = None
        self._access_expires = 0.0
        self._user: dict[str, Any] | None = None
        self._loaded = False
        self._bootstrap_tried = False
        self._refresh_lock = asyncio.Lock()
        self._logins: dict[str, PendingLogin] = {}
        self._devices: dict[str, PendingDevice] = {}
        #: why the user is logged out, when it was not their choice
        self.last_error: str | None = None

    async def _thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args)

    # --- state -----------------------------------------------------------------------------

    def _stored(self) -> StoredLogin | None:
        login = self.store.load()
        if login and (login.issuer != self.oidc.issuer or login.client_id != self.oidc.client_id):
            self.log.warning(
                "EVN archive: the stored login is for %s/%s, not the configured %s/%s; ignoring it",
                login.issuer,
                login.client_id,
                self.oidc.issuer,
                self.oidc.client_id,
            )
            return None
        return login

    async def _ensure_loaded(self) -> None:
        if not self._loaded:
            login = await self._thread(self._stored)
            self._user = login.user if login else None
            self._loaded = True

    async def status(self) -> dict[str, Any]:
        """Logged in (a refresh token is stored or a bootstrap token is waiting) and as whom.

        Does not call Keycloak: a login that Keycloak revoked shows up at the next token use.
        """
        await self._ensure_loaded()
        bootstrap_waiting = self._user is None and self._bootstrap_token() is not None
        return {
            "logged_in": self._user is not None or bootstrap_waiting,
            "user": dict(self._user) if self._user else None,
            "message": self.last_error,
        }

    def _handed_over(self) -> str | None:
        """The refresh token JupyterHub put into ``$<bootstrap_env>`` (read at start), if any."""
        return self._handed_over_token

    def _bootstrap_token(self) -> str | None:
        """The handed-over token, while it may still be used implicitly: no store, not tried
        here, never imported before (also not by an earlier run of this server)."""
        token = self._handed_over()
        if token is None or self._bootstrap_tried or self.store.exists():
            return None
        if self.store.was_imported(token):
            self._bootstrap_tried = True
            return None
        return token

    # --- access tokens ---------------------------------------------------------------------

    async def access_token(self) -> str:
        """A valid access token: the cached one, or one refresh (shared by all callers)."""
        token = self._access_token
        if token and time.time() < self._access_expires:
            return token
        stale = token
        async with self._refresh_lock:
            # someone else may have refreshed while we waited for the lock
            if self._access_token and self._access_token != stale:
                if time.time() < self._access_expires:
                    return self._access_token
            return await self._refresh()

    def invalidate(self, token: str) -> None:
        """The notebook service refused this access token: get a new one next time."""
        if self._access_token == token:
            self._access_token = None
            self._access_expires = 0.0

    async def _refresh(self) -> str:
        bootstrap = None if await self._thread(self.store.exists) else self._bootstrap_token()
        try:
            token, user = await self._thread(self._refresh_blocking, bootstrap)
        except SessionEnded as e:
            self._forget(e.message)
            raise
        return self._remember(token, user)

    def _remember(self, token: dict[str, Any], user: dict[str, Any]) -> str:
        """A fresh token answer: who is logged in, and the access token until it expires."""
        self._user = user
        self._loaded = True
        self.last_error = None
        self._access_token = str(token["access_token"])
        self._access_expires = expires_at(token)
        return self._access_token

    def _refresh_blocking(self, bootstrap: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Under the store's file lock: read the newest refresh token, refresh, store the
        rotated one (before anyone uses the new access token)."""
        with self.store.locked():
            login = self._stored()
            if login is None:
                if bootstrap is None or self.store.was_imported(bootstrap):
                    raise NotLoggedIn()
                self._bootstrap_tried = True
                self.log.info(
                    "EVN archive: using the refresh token from $%s (JupyterHub)", self.bootstrap_env
                )
                return self._import_locked(bootstrap)
            return self._exchange_locked(login.refresh_token, login.user, True)

    def _import_locked(self, bootstrap: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Exchange the handed-over token; once Keycloak took or refused it, remember its hash
        (it is not imported again). Call with the store's file lock held."""
        try:
            answer = self._exchange_locked(bootstrap, {}, False)
        except SessionEnded:
            self.store.remember_import(bootstrap)
            raise
        self.store.remember_import(bootstrap)
        return answer

    def _exchange_locked(
        self, refresh_token: str, user: dict[str, Any], from_store: bool
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """One refresh at Keycloak; the rotated token is stored before it is used. Call with
        the store's file lock held. A refused stored token is deleted (logged out)."""
        try:
            token = self.oidc.refresh(refresh_token)
        except SessionEnded:
            if from_store:
                self.store.delete()
            raise
        claims = unverified_claims(str(token.get("access_token", "")))
        user = user_from_claims(claims) if claims else user
        rotated = str(token.get("refresh_token") or refresh_token)
        self.store.save(StoredLogin(rotated, self.oidc.issuer, self.oidc.client_id, user))
        return token, user

    async def bootstrap_login(self) -> dict[str, Any]:
        """Log in with the refresh token JupyterHub handed over in ``$<bootstrap_env>``,
        replacing any stored login (``jupyter evn-submit login --bootstrap``; the server uses
        the same exchange implicitly at its first refresh, but only for a token never imported
        before; asked for explicitly, it is tried again). Returns the user."""
        handed_over = self._handed_over()
        if handed_over is None:
            raise BootstrapTokenMissing(
                f"No refresh token was handed over in ${self.bootstrap_env or 'EVN_REFRESH_TOKEN'}."
            )
        async with self._refresh_lock:
            token, user = await self._thread(
                self._under_file_lock, self._import_locked, handed_over
            )
            self._bootstrap_tried = True
            self._remember(token, user)
        self.log.info(
            "EVN archive: logged in as %s from $%s", user.get("username"), self.bootstrap_env
        )
        return user

    def _forget(self, message: str | None) -> None:
        self._access_token = None
        self._access_expires = 0.0
        self._user = None
        self._loaded = True
        self.last_error = message

    async def _store_tokens(self, token: dict[str, Any], user: dict[str, Any]) -> None:
        refresh = token.get("refresh_token")
        if not refresh:
            raise IdentityProviderError("The login service gave no refresh token.")
        login = StoredLogin(str(refresh), self.oidc.issuer, self.oidc.client_id, user)
        async with self._refresh_lock:
            await self._thread(self._under_file_lock, self.store.save, login)
            self._remember(token, user)

    def _under_file_lock(self, fn: Callable[..., T], *args: Any) -> T:
        with self.store.locked():
            return fn(*args)

    # --- browser login (authorization code + PKCE) -----------------------------------------

    def _prune(self) -> None:
        now = time.time()
        for state in [s for s, p in self._logins.items() if p.expires < now]:
            del self._logins[state]
        for dev in [d for d, p in self._devices.items() if p.expires < now]:
            del self._devices[dev]

    async def start_browser_login(self, owner: str, redirect_uri: str) -> str:
        """A fresh state/nonce/verifier bound to ``owner``; returns the authorize URL."""
        self._prune()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier, challenge = new_pkce()
        url = await self._thread(self.oidc.authorization_url, redirect_uri, state, nonce, challenge)
        self._logins[state] = PendingLogin(
            owner, verifier, nonce, redirect_uri, time.time() + self.login_timeout
        )
        return url

    def discard_login(self, state: str) -> None:
        """The login service answered with an error: the state is spent all the same."""
        self._logins.pop(state, None)

    async def finish_browser_login(self, owner: str, state: str, code: str) -> dict[str, Any]:
        """Exchange the code of a state this user started (once, before it expires)."""
        self._prune()
        pending = self._logins.pop(state, None) if state else None  # single use, whatever next
        if (
            pending is None
            or not hmac.compare_digest(pending.owner, owner)
            or pending.expires < time.time()
        ):
            raise LoginStateInvalid()
        if not code:
            raise BadRequest("The login service sent no authorization code.")
        token = await self._thread(
            self.oidc.exchange_code, code, pending.redirect_uri, pending.verifier
        )
        claims = await self._thread(
            self.oidc.verify_id_token, str(token.get("id_token", "")), pending.nonce
        )
        user = user_from_claims(claims)
        await self._store_tokens(token, user)
        self.log.info("EVN archive: logged in as %s (browser)", user["username"])
        return user

    # --- device login ----------------------------------------------------------------------

    async def start_device_login(self, owner: str) -> dict[str, Any]:
        self._prune()
        verifier, challenge = new_pkce()
        answer = await self._thread(self.oidc.device_authorization, challenge)
        device_id = secrets.token_urlsafe(24)
        # at most login_timeout, even when Keycloak's device code lives longer
        expires_in = min(float(answer.get("expires_in") or 600), float(self.login_timeout))
        interval = float(answer.get("interval") or 5)
        self._devices[device_id] = PendingDevice(
            owner, str(answer["device_code"]), verifier, interval, time.time() + expires_in
        )
        return {
            "device_id": device_id,
            "user_code": answer.get("user_code"),
            "verification_uri": answer.get("verification_uri"),
            "verification_uri_complete": answer.get("verification_uri_complete"),
            "expires_in": int(expires_in),
            "interval": int(interval),
        }

    async def poll_device_login(self, owner: str, device_id: str) -> dict[str, Any]:
        """One poll; never faster than the interval Keycloak asked for."""
        pending = self._devices.get(device_id)
        if pending is None or not hmac.compare_digest(pending.owner, owner):
            self._prune()
            return {"status": "expired"}
        now = time.time()
        if pending.expires < now:
            del self._devices[device_id]
            return {"status": "expired"}
        if now < pending.next_poll:
            return {"status": "pending"}
        pending.next_poll = now + pending.interval
        try:
            token = await self._thread(self.oidc.poll_device, pending.device_code, pending.verifier)
        except DevicePending as e:
            if e.slow_down:
                pending.interval += 5
            return {"status": "pending"}
        except DeviceFinished as e:
            self._devices.pop(device_id, None)
            return {"status": e.status}
        self._devices.pop(device_id, None)
        claims = unverified_claims(str(token.get("id_token") or token["access_token"]))
        user = user_from_claims(claims)
        await self._store_tokens(token, user)
        self.log.info("EVN archive: logged in as %s (device)", user["username"])
        return {"status": "done", "user": user}

    # --- logout ----------------------------------------------------------------------------

    async def logout(self) -> dict[str, Any]:
        """Revoke the stored refresh token at Keycloak and delete it here, under both locks.
        Also when Keycloak cannot be reached: then the token is deleted here all the same,
        ``revoked`` is false and ``message`` says why. The handed-over token is not used again.

        Returns ``{"was_logged_in", "revoked", "message"?}``."""
        async with self._refresh_lock:
            try:
                result = await self._thread(self._logout_blocking)
            finally:
                self._bootstrap_tried = True
                self._forget(None)
        self.log.info("EVN archive: logged out")
        return result

    def _logout_blocking(self) -> dict[str, Any]:
        with self.store.locked():
            login = self._stored()
            result: dict[str, Any] = {"was_logged_in": login is not None, "revoked": False}
            try:
                if login is not None:
                    self.oidc.revoke(login.refresh_token)
                    result["revoked"] = True
            except EvnSubmitError as e:
                self.log.warning(
                    "EVN archive: could not revoke the login at Keycloak (%s); deleting it here",
                    e.message,
                )
                result["message"] = (
                    f"The login was deleted here, but Keycloak could not revoke it: {e.message}"
                )
            finally:
                self.store.delete()
                if self._handed_over_token:  # a restart with it still handed over: logged out
                    self.store.remember_import(self._handed_over_token)
            return result

    async def with_token(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run ``call(access_token)``; when the service refuses the token (401), refresh once
        and retry."""
        token = await self.access_token()
        try:
            return await call(token)
        except EvnSubmitError as e:
            if getattr(e, "upstream_status", None) != 401:
                raise
            self.invalidate(token)
        return await call(await self.access_token())
