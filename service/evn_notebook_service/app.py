"""The Tornado application of the notebook service."""

from __future__ import annotations

import logging
import time
from typing import Any

from tornado import web

from .archive import Archive
from .auth import TokenVerifier
from .config import ServiceConfig
from .gitea import GiteaClient
from .handlers import (
    HealthHandler,
    MySubmissionsHandler,
    NotebookHandler,
    NotebooksHandler,
    NotFoundHandler,
    OpenAPIHandler,
    VersionsHandler,
)
from .logs import log
from .reader import Reader

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
    gitea = GiteaClient(config)
    verifier = TokenVerifier(config)
    routes = [
        (API + "/health", HealthHandler),
        (API + "/openapi.json", OpenAPIHandler),
        (API + "/me/submissions", MySubmissionsHandler),
        (API + f"/experiments/{_SEG}/notebooks", NotebooksHandler),
        (API + f"/experiments/{_SEG}/notebooks/{_SEG}/{_SEG}", NotebookHandler),
        (API + f"/experiments/{_SEG}/notebooks/{_SEG}/{_SEG}/versions", VersionsHandler),
    ]
    return web.Application(
        routes,
        default_handler_class=NotFoundHandler,
        log_function=_log_request,
        evn_config=config,
        evn_gitea=gitea,
        evn_verifier=verifier,
        evn_archive=Archive(config, gitea),
        evn_reader=Reader(config, gitea),
        evn_body_limit=body_limit(config),
        **settings,
    )
