"""Async client of the EVN notebook service (API v1). Knows nothing of Tornado handlers.

``requests`` runs in a worker thread (``anyio.to_thread``), so a 50 MB upload never blocks the
event loop; the answer is read in that thread too, a piece at a time (``notebookjson``: a 50 MB
notebook in one ``json.loads`` would hold the GIL, and so stall the loop, for 0.1-0.5 s). A
submission's body may be a ``Body``: its parts are sent one after the other, never joined. Every
call goes through ``_fetch``, which logs the URL without its query and turns failures into the
typed errors of ``errors.py``. Only idempotent calls are retried: GETs, and the
submission, which carries an ``Idempotency-Key`` so the service answers a replay with the first
result instead of a second commit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
import requests
from requests.utils import guess_json_utf

from . import notebookjson
from .errors import (
    CatalogueUnavailable,
    EvnSubmitError,
    ServiceError,
    ServiceTimeout,
    ServiceUnavailable,
    UnknownExperiment,
)
from .listing import Page
from .oidc import log_url

RETRY_STATUSES = frozenset({502, 503, 504})
FIRST_PAGE = Page()


def _seg(value: str) -> str:
    return quote(str(value), safe="")


class Body:
    """A request body in parts, sent one after the other with ``Content-Length`` (requests
    streams an iterable with a length): no copy of a big notebook to join them. Iterable again
    for a retry."""

    def __init__(self, *parts: bytes) -> None:
        self.parts = parts

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.parts)

    def __bytes__(self) -> bytes:
        return b"".join(self.parts)


@dataclass
class Reply:
    """What the worker thread hands back: the status, and the answer read (below 400) or the
    service's message (400 and above); the response itself, and its bytes, stay in the thread."""

    status: int
    data: Any = None
    message: str | None = None
    retry_after: str | None = None
    #: the service's ``error`` name (``UnknownExperiment``, ``CatalogueUnavailable``), if any
    error: str | None = None
    #: an ``UnknownExperiment``'s close known codes
    suggestions: list[str] | None = None

    def failure(self) -> EvnSubmitError:
        """The typed error of an answer of 400 and above."""
        if self.status == 404 and (self.error == "UnknownExperiment" or self.suggestions):
            return UnknownExperiment(self.message, self.suggestions or [])
        if self.status == 503 and self.error == "CatalogueUnavailable":
            return CatalogueUnavailable(self.message, retry_after=self.retry_after)
        return ServiceError(self.status, self.message, retry_after=self.retry_after)


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        retries: int = 2,
        backoff: float = 0.5,
        log: logging.Logger | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = self.base_url + "/api/v1"
        self.timeout = timeout
        self.verify = verify
        self.retries = retries
        self.backoff = backoff
        self.log = log or logging.getLogger(__name__)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.verify = self.verify
            self._local.session = session
        return session

    def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | Body | None,
        timeout: float,
    ) -> Reply:
        """One request and its answer read (blocking: in a worker thread)."""
        r = self._fetch_blocking(method, url, headers, body, timeout)
        if r.status_code < 400:
            return Reply(r.status_code, data=_json(r))
        return _error_reply(r)

    def _fetch_blocking(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | Body | None,
        timeout: float,
    ) -> requests.Response:
        start = time.monotonic()
        try:
            r = self._session().request(
                method, url, headers=headers, data=body, timeout=timeout, verify=self.verify
            )
        except requests.Timeout as e:
            self.log.warning("EVN archive: %s %s timed out", method, log_url(url))
            raise ServiceTimeout() from e
        except requests.RequestException as e:
            self.log.warning("EVN archive: %s %s failed: %s", method, log_url(url), e)
            raise ServiceUnavailable() from e
        self.log.debug(
            "EVN archive: %s %s -> %s (%.2f s)",
            method,
            log_url(url),
            r.status_code,
            time.monotonic() - start,
        )
        return r

    async def _fetch(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: bytes | Body | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        idempotent: bool | None = None,
        limit: float | None = None,
    ) -> Any:
        url = self.api + path
        if params:
            url += "?" + "&".join(f"{_seg(k)}={_seg(v)}" for k, v in params.items())
        all_headers = {"Accept": "application/json"} | (headers or {})
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        retry = method == "GET" if idempotent is None else idempotent
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                r = await anyio.to_thread.run_sync(
                    self._exchange, method, url, all_headers, body, limit or self.timeout
                )
            except (ServiceUnavailable, ServiceTimeout):
                if last:
                    raise
            else:
                if r.status < 400:
                    return r.data
                # the catalogue's 503 already waited out the service's own TAP time limit
                if last or r.status not in RETRY_STATUSES or r.error == "CatalogueUnavailable":
                    raise r.failure()
            await anyio.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- API v1 ----------------------------------------------------------------------------

    async def health(self, limit: float = 3.0) -> bool:
        """Whether the service answers its health check within ``limit`` seconds."""
        try:
            answer = await self._fetch("GET", "/health", idempotent=False, limit=limit)
        except EvnSubmitError:
            return False
        return isinstance(answer, dict) and answer.get("status") == "ok"

    async def submit(
        self, experiment: str, body: bytes | Body, idempotency_key: str, token: str
    ) -> dict[str, Any]:
        return dict(
            await self._fetch(
                "POST",
                f"/experiments/{_seg(experiment)}/notebooks",
                token=token,
                body=body,
                headers={"Idempotency-Key": idempotency_key},
                idempotent=True,  # the key makes a replay safe
                limit=max(self.timeout, 120.0),
            )
        )

    async def my_submissions(self, token: str, page: Page = FIRST_PAGE) -> dict[str, Any]:
        return dict(await self._fetch("GET", "/me/submissions", token=token, params=page.params()))

    # The reads are public; with ``token`` the reader's own embargoed notebooks are included.

    async def experiment_notebooks(
        self, experiment: str, page: Page = FIRST_PAGE, token: str | None = None
    ) -> dict[str, Any]:
        path = f"/experiments/{_seg(experiment)}/notebooks"
        return dict(await self._fetch("GET", path, params=page.params(), token=token))

    async def search(self, params: dict[str, str], token: str | None = None) -> dict[str, Any]:
        """``GET /notebooks`` (public) with the search parameters of ``listing.search_params``."""
        return dict(await self._fetch("GET", "/notebooks", params=params, token=token))

    async def observation(self, experiment: str) -> dict[str, Any]:
        """``GET /experiments/{code}/observation`` (public): what the archive's catalogue knows
        of the experiment. Not retried: the form asks again as the code is typed, and the
        catalogue's 503 comes after the service's own time limit."""
        path = f"/experiments/{_seg(experiment)}/observation"
        return dict(await self._fetch("GET", path, idempotent=False))

    async def notebook(
        self,
        experiment: str,
        owner: str,
        name: str,
        version: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        params = {"version": str(version)} if version is not None else None
        path = f"/experiments/{_seg(experiment)}/notebooks/{_seg(owner)}/{_seg(name)}"
        return dict(await self._fetch("GET", path, params=params, token=token))

    async def versions(
        self,
        experiment: str,
        owner: str,
        name: str,
        page: Page = FIRST_PAGE,
        token: str | None = None,
    ) -> dict[str, Any]:
        path = f"/experiments/{_seg(experiment)}/notebooks/{_seg(owner)}/{_seg(name)}/versions"
        return dict(await self._fetch("GET", path, params=page.params(), token=token))


def _json(r: requests.Response) -> Any:
    """``r.json()``, read a piece at a time (blocking: in the worker thread)."""
    try:
        content = r.content
        if r.encoding:
            text = r.text
        else:
            text = content.decode(guess_json_utf(content) or "utf-8") if content else ""
        return notebookjson.loads(text, notebookjson.AnswerDecoder)
    except ValueError as e:
        raise ServiceError(502, "The EVN notebook archive sent an unreadable answer.") from e


def _error_reply(r: requests.Response) -> Reply:
    """An error answer: its ``message``, and the ``error`` and ``suggestions`` the catalogue's
    errors carry (anything else in the body, or a body that is not JSON, is left out)."""
    reply = Reply(r.status_code, retry_after=r.headers.get("Retry-After"))
    try:
        body = r.json()
    except ValueError:
        return reply
    if not isinstance(body, dict):
        return reply
    if isinstance(body.get("message"), str):
        reply.message = str(body["message"])
    if isinstance(body.get("error"), str):
        reply.error = str(body["error"])
    suggestions = body.get("suggestions")
    if isinstance(suggestions, list) and all(isinstance(c, str) for c in suggestions):
        reply.suggestions = [str(c) for c in suggestions[:10]]
    return reply
