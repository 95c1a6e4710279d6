"""The Tornado application of the notebook service."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from tornado import web

from .archive import Archive
from .auth import TokenVerifier
from .catalogue import Catalogue
from .config import ServiceConfig
from .gitea import GiteaClient
from .handlers import (
    HealthHandler,
    MySubmissionsHandler,
    NotebookHandler,
    NotebooksHandler,
    NotFoundHandler,
    ObservationHandler,
    OpenAPIHandler,
    SearchHandler,
    VersionsHandler,
)
from .hooks import WebhookHandler
from .index.store import Index
from .indexer import Indexer
from .logs import log
from .reader import Reader
from .shutdown import InFlight

_SEG = r"([^/]+)"
API = "/api/v1"


def body_limit(config: ServiceConfig) -> int:
    """Largest request body read: room for a notebook at the size limit plus its metadata."""
    return 2 * config.max_notebook_bytes + 4 * 1024 * 1024


def _log_request(handler: web.RequestHandler) -> None:
    status = handler.get_status()
    level = logging.INFO if status < 500 else logging.WARNING
    started = getattr(handler, "started", time.perf_counter())
    log.log(
        level,
        "%s %s %s",
        handler.request.method,
        handler.request.path,
        status,
        extra={
            "request_id": getattr(handler, "request_id", "-"),
            "fields": {
                "method": handler.request.method,
                "path": handler.request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        },
    )


def make_app(config: ServiceConfig, **settings: Any) -> web.Application:
    """The application and the objects it holds; ``start_index`` (below) makes it ready to read.

    Called with an event loop running, it schedules ``start_index`` itself (kept in the
    settings as ``evn_index_start``), so no caller can forget it.
    """
    gitea = GiteaClient(config)
    catalogue = Catalogue(config)
    index = Index(config.index_url)
    indexer = Indexer(config, gitea, index, catalogue=catalogue)
    routes = [
        (API + "/health", HealthHandler),
        (API + "/openapi.json", OpenAPIHandler),
        (API + "/me/submissions", MySubmissionsHandler),
        (API + "/notebooks", SearchHandler),
        (API + "/hooks/gitea", WebhookHandler),
        (API + f"/experiments/{_SEG}/observation", ObservationHandler),
        (API + f"/experiments/{_SEG}/notebooks", NotebooksHandler),
        (API + f"/experiments/{_SEG}/notebooks/{_SEG}/{_SEG}", NotebookHandler),
        (API + f"/experiments/{_SEG}/notebooks/{_SEG}/{_SEG}/versions", VersionsHandler),
    ]
    app = web.Application(
        routes,
        default_handler_class=NotFoundHandler,
        log_function=_log_request,
        evn_config=config,
        evn_gitea=gitea,
        evn_verifier=TokenVerifier(config),
        evn_index=index,
        evn_indexer=indexer,
        evn_catalogue=catalogue,
        evn_archive=Archive(config, gitea, indexer=indexer, catalogue=catalogue),
        evn_reader=Reader(config, gitea, index, indexer),
        evn_body_limit=body_limit(config),
        evn_in_flight=InFlight(),
        **settings,
    )
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return app
    app.settings["evn_index_start"] = loop.create_task(start_index(app))
    if catalogue.enabled:  # pyvo's import (seconds) now, not in the first query's time limit
        app.settings["evn_catalogue_load"] = loop.create_task(catalogue.warm())
    return app


async def start_index(app: web.Application) -> None:
    """Migrate the index (in a thread; retried until it works), then let the reader answer.

    Until then reads answer 503 and writes still commit. ``__main__`` runs the indexer's loop
    once this is done (it awaits ``evn_index_start``).
    """
    index: Index = app.settings["evn_index"]
    url = _safe_url(app.settings["evn_config"].index_url)
    delay = 1.0
    while True:
        try:
            await asyncio.to_thread(index.migrate)
            break
        except Exception as e:  # any failure: say so, wait, try again
            log.warning(
                "the archive index cannot be opened; retrying",
                extra={"fields": {"index": url, "error": str(e)[:300], "retry_in": delay}},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
    app.settings["evn_reader"].ready.set()
    log.info("archive index ready", extra={"fields": {"index": url}})


def _safe_url(url: str) -> str:
    """The index URL without a password (``postgresql+psycopg://user:***@host/db``)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"
