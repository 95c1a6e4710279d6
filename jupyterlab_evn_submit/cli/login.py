"""``login`` (device flow or the bootstrap token), ``status`` and ``logout``.

The device flow and the refresh go through the server extension's ``TokenManager`` (one refresh
at a time across processes, the rotated refresh token stored before use). The bootstrap login and
the logout are built here on the public pieces (``OidcClient.refresh`` / ``revoke``,
``TokenStore.locked`` / ``save`` / ``delete``): the token manager's own bootstrap is only used
when no token is stored, and its logout does not say whether Keycloak revoked the token.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread

from ..errors import EvnSubmitError, LoginFailed, NotLoggedIn, SessionEnded
from ..oidc import unverified_claims, user_from_claims
from ..tokenstore import StoredLogin
from .context import Context, log
from .exitcodes import NOT_LOGGED_IN, CliError

Say = Callable[[str], None]


def describe_user(user: dict[str, Any] | None) -> str:
    if not user:
        return "an unknown user"
    name, username = user.get("name"), user.get("username")
    return f"{name} ({username})" if name and username else str(name or username)


async def current_user(ctx: Context) -> dict[str, Any]:
    """Prove the stored login is alive (one refresh at Keycloak); the user it belongs to."""
    tokens = ctx.tokens
    await tokens.access_token()
    status = await tokens.status()
    return dict(status.get("user") or {})


async def login(ctx: Context, *, bootstrap: bool, force: bool, say: Say) -> dict[str, Any]:
    if bootstrap:
        return await _bootstrap(ctx)
    if not force and await anyio.to_thread.run_sync(ctx.store.exists):
        try:
            user = await current_user(ctx)
        except NotLoggedIn:
            pass  # the stored login ended: log in again below
        else:
            return {"logged_in": True, "user": user, "already": True}
    return await _device(ctx, say)


async def _device(ctx: Context, say: Say) -> dict[str, Any]:
    tokens = ctx.tokens
    owner = getpass.getuser()
    start = await tokens.start_device_login(owner)
    url = start.get("verification_uri_complete") or start.get("verification_uri")
    minutes = max(1, round(int(start.get("expires_in") or 600) / 60))
    say(
        f"To log in to the EVN archive, open\n\n    {url}\n\nin a browser and confirm the code "
        f"{start.get('user_code')} (valid for {minutes} min). Waiting for the confirmation..."
    )
    deadline = time.monotonic() + int(start.get("expires_in") or 600) + 5
    interval = max(1.0, float(start.get("interval") or 5))
    while time.monotonic() < deadline:
        await asyncio.sleep(interval)
        answer = await tokens.poll_device_login(owner, str(start["device_id"]))
        status = answer.get("status")
        if status == "done":
            return {"logged_in": True, "user": answer.get("user") or {}}
        if status == "denied":
            raise LoginFailed("The login was refused in the browser.")
        if status == "expired":
            break
    raise LoginFailed("The login code expired before it was confirmed. Run login again.")


async def _bootstrap(ctx: Context) -> dict[str, Any]:
    """Log in with the refresh token JupyterHub put into ``$<bootstrap_token_env>``."""
    variable = ctx.config.bootstrap_token_env
    token = os.environ.get(variable, "").strip() if variable else ""
    if not token:
        raise CliError(
            NOT_LOGGED_IN,
            f"--bootstrap needs a refresh token in ${variable or 'EVN_REFRESH_TOKEN'}, "
            "which is empty.",
            "Run `jupyter evn-submit login` without --bootstrap to log in with a browser.",
        )
    tokens = ctx.tokens
    oidc, store = tokens.oidc, tokens.store

    def exchange() -> dict[str, Any]:
        with store.locked():
            answer = oidc.refresh(token)
            claims = unverified_claims(str(answer.get("access_token", "")))
            user = user_from_claims(claims)
            rotated = str(answer.get("refresh_token") or token)
            store.save(StoredLogin(rotated, oidc.issuer, oidc.client_id, user))
            return user

    user = await anyio.to_thread.run_sync(exchange)
    log.info("EVN archive: logged in as %s from $%s", user.get("username"), variable)
    return {"logged_in": True, "user": user, "bootstrap": variable}


async def status(ctx: Context) -> dict[str, Any]:
    """Who is logged in (checked at Keycloak) and whether the archive answers."""
    config = ctx.config
    result: dict[str, Any] = {
        "logged_in": False,
        "user": None,
        "issuer": config.issuer_url or None,
        "client_id": config.client_id,
        "token_store": str(config.store_path),
        "service": {"url": config.service_url or None, "reachable": False},
    }
    if config.service_url:
        result["service"]["reachable"] = await ctx.client.health()
    if not config.issuer_url:
        result["message"] = "EVN_ISSUER_URL is not set: there is nowhere to log in."
        return result
    try:
        result["user"] = await current_user(ctx)
        result["logged_in"] = True
    except SessionEnded as e:  # there was a login, and Keycloak ended it
        result["message"] = e.message
    except NotLoggedIn:
        pass
    return result


async def logout(ctx: Context) -> dict[str, Any]:
    """Revoke the refresh token at Keycloak and delete it from the store (also when Keycloak
    cannot be reached: then ``revoked`` is false and the reason is given)."""
    tokens = ctx.tokens
    oidc, store = tokens.oidc, tokens.store

    def run() -> dict[str, Any]:
        with store.locked():
            stored = store.load()
            result: dict[str, Any] = {"logged_in": False, "was_logged_in": stored is not None}
            result["revoked"] = False
            try:
                if stored is not None:
                    oidc.revoke(stored.refresh_token)
                    result["revoked"] = True
            except EvnSubmitError as e:
                result["message"] = (
                    f"The login was deleted here, but Keycloak could not revoke it: {e.message}"
                )
            finally:
                store.delete()
            return result

    return await anyio.to_thread.run_sync(run)
