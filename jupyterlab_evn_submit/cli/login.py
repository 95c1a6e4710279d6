"""``login`` (device flow or the bootstrap token), ``status`` and ``logout``.

All of them go through the server extension's ``TokenManager`` (one refresh at a time across
processes, the rotated refresh token stored before use): ``start_device_login`` /
``poll_device_login``, ``bootstrap_login``, ``access_token`` and ``logout``. This module only
talks to the person at the terminal.
"""

from __future__ import annotations

import asyncio
import getpass
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread

from ..errors import BootstrapTokenMissing, LoginFailed, NotLoggedIn, SessionEnded
from .context import Context
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
    seconds = int(start.get("expires_in") or 600)
    valid = f"{seconds} s" if seconds < 120 else f"{round(seconds / 60)} min"
    say(
        f"To log in to the EVN archive, open\n\n    {url}\n\nin a browser and confirm the code "
        f"{start.get('user_code')} (valid for {valid}). Waiting for the confirmation..."
    )
    # the code expires after expires_in (at most EVN_LOGIN_TIMEOUT): poll once more right then
    expires = time.monotonic() + seconds
    interval = max(1.0, float(start.get("interval") or 5))
    while time.monotonic() < expires + interval + 5:
        await asyncio.sleep(max(0.5, min(interval, expires - time.monotonic() + 0.5)))
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
    variable = ctx.config.bootstrap_token_env or "EVN_REFRESH_TOKEN"
    try:
        user = await ctx.tokens.bootstrap_login()
    except BootstrapTokenMissing as e:
        raise CliError(
            NOT_LOGGED_IN,
            f"--bootstrap needs a refresh token in ${variable}, which is empty.",
            "Run `jupyter evn-submit login` without --bootstrap to log in with a browser.",
        ) from e
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
    return {"logged_in": False} | await ctx.tokens.logout()
