"""Who reads: the archive's reads are public, but a notebook whose experiment's data are still
proprietary is shown only to its submitter (docs/catalogue.md, "Embargo in reads"). So a read is
sent with the researcher's access token while they are logged in, and anonymously otherwise —
also when their login cannot give a token just now (Keycloak down, login ended): the public part
of the archive stays readable whatever happens to the login.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from .errors import IdentityProviderError, IdentityProviderUnavailable, NotLoggedIn
from .tokens import TokenManager

T = TypeVar("T")


async def reader_token(tokens: TokenManager | None) -> str | None:
    """The logged-in researcher's access token, or ``None`` (not logged in, or no token now)."""
    if tokens is None or not (await tokens.status())["logged_in"]:
        return None
    try:
        return await tokens.access_token()
    except (NotLoggedIn, IdentityProviderUnavailable, IdentityProviderError):
        return None


async def as_reader(tokens: TokenManager | None, call: Callable[[str | None], Awaitable[T]]) -> T:
    """``call(token)`` as the logged-in researcher, else ``call(None)``; a token the service
    refuses (401) is dropped and the read made again anonymously."""
    token = await reader_token(tokens)
    if token is None or tokens is None:
        return await call(None)
    try:
        return await call(token)
    except Exception as e:
        if getattr(e, "upstream_status", None) != 401:
            raise
        tokens.invalidate(token)  # refused: read as anyone rather than fail a public read
    return await call(None)
