"""Thin Tornado handlers: read the request, call the archive or the reader, write JSON."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from tornado import iostream, web
from tornado.ioloop import IOLoop

from . import __version__
from .archive import Archive
from .auth import Identity, TokenVerifier
from .bodies import StreamingHandler, allowed_methods
from .catalogue import Catalogue
from .config import ServiceConfig
from .contract import experiment_code, notebook_name, username_folder
from .errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    ServiceError,
    Unauthorized,
    as_service_error,
)
from .logs import log, request_id
from .openapi import openapi_document
from .params import page_cursor, page_limit, search_query, version_number
from .reader import LEGACY_OWNER, ListPage, Reader
from .shutdown import InFlight
from .submission import check_content_type, idempotency_key, parse_submission

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_NOT_QUOTABLE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")  # RFC 6750 error_description
REALM = "evn-notebook-service"
IMMUTABLE = "public, max-age=31536000, immutable"
DESCRIPTION_MAX = 200


def challenge(error: ServiceError) -> str:
    """``WWW-Authenticate`` of a 401: the realm, and the error when a token was sent."""
    value = f'Bearer realm="{REALM}"'
    code = getattr(error, "error", None)
    if code:
        text = error.message.replace('"', "'").replace("\\", "'")
        text = _NOT_QUOTABLE.sub("?", text)
        if len(text) > DESCRIPTION_MAX:
            text = text[: DESCRIPTION_MAX - 3] + "..."
        value += f', error="{_NOT_QUOTABLE.sub("?", code)}", error_description="{text}"'
    return value


class BaseHandler(StreamingHandler):
    """JSON errors ``{"message"}``, a request id on every request and in every log line; every
    body streamed and checked from the headers first (``bodies.py``)."""

    request_id = "-"

    @property
    def config(self) -> ServiceConfig:
        return self.settings["evn_config"]

    @property
    def archive(self) -> Archive:
        return self.settings["evn_archive"]

    @property
    def reader(self) -> Reader:
        return self.settings["evn_reader"]

    @property
    def catalogue(self) -> Catalogue:
        return self.settings["evn_catalogue"]

    @property
    def verifier(self) -> TokenVerifier:
        return self.settings["evn_verifier"]

    @property
    def in_flight(self) -> InFlight:
        return self.settings["evn_in_flight"]

    def initialize(self) -> None:
        given = self.request.headers.get("X-Request-Id", "")
        self.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request_id.set(self.request_id)
        self.started = time.perf_counter()
        self.in_flight.add(self)

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        if self.request_id != "-":
            self.set_header("X-Request-Id", self.request_id)
        if self.closing or self.in_flight.draining:
            self.set_header("Connection", "close")

    async def prepare(self) -> None:
        self.set_header("X-Request-Id", self.request_id)
        await super().prepare()

    def finish(self, chunk: Any = None) -> Any:
        if self.in_flight.draining and not self._headers_written:
            self.set_header("Connection", "close")  # shutting down: see on_finish
        return super().finish(chunk)

    def on_finish(self) -> None:
        super().on_finish()
        self.in_flight.discard(self)
        stream = getattr(self.request.connection, "stream", None)
        if self.in_flight.draining and stream is not None and not stream.closed():
            # shutting down: the connection ends with this answer (sent with Connection: close)
            IOLoop.current().add_future(stream.write(b""), lambda _: stream.close())

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if not self.body_done:  # else the method still runs (a commit, say) and will finish
            self.in_flight.discard(self)

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = as_service_error(kwargs.get("exc_info", (None, None, None))[1])
        if exc is not None:
            status_code = exc.status
        if not self.prepared:  # Tornado closes the connection of an answer before the body
            self.closing = True
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, iostream.StreamClosedError):
            return  # the client went away; the access log has the request
        value = as_service_error(value) or value
        if isinstance(value, ServiceError) and value.status < 500:
            return
        if isinstance(value, web.HTTPError) and value.status_code < 500:
            return
        if isinstance(value, (ServiceError, web.HTTPError)):
            log.warning("request failed: %s", getattr(value, "message", value))
            return
        log.error("unexpected error", exc_info=(typ, value, tb))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        raised = kwargs.get("exc_info", (None, None, None))[1]
        exc = as_service_error(raised) or raised
        if isinstance(exc, ServiceError):
            message = exc.message
        elif isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
            message = message[:300]  # Tornado's may quote the bad input (a query argument)
        elif status_code == 404:
            message = "no such endpoint; see /api/v1/openapi.json"
        elif status_code == 405:
            message = (
                f"{self.request.method} is not allowed here (allowed: {self._allow()}); "
                "see /api/v1/openapi.json"
            )
        elif status_code >= 500:
            message = f"internal error; quote request id {self.request_id} to the operator"
        else:
            message = self._reason
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            self.set_header("Retry-After", str(retry_after))
        if status_code == 405:
            allow = getattr(exc, "allow", None)  # a MethodNotAllowed raised by a route
            self.set_header("Allow", ", ".join(allow) if allow else self._allow())
        if status_code == 401:
            error = exc if isinstance(exc, Unauthorized) else Unauthorized(message, error=None)
            self.set_header("WWW-Authenticate", challenge(error))
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        fields = exc.fields() if isinstance(exc, ServiceError) else {}
        self.finish({"message": message, **fields})

    def _allow(self) -> str:
        return ", ".join(allowed_methods(type(self)))

    async def identity(self) -> Identity:
        return await self.verifier.verify(self.request.headers.get("Authorization"))

    async def reader_sub(self) -> str | None:
        """A read's optional token: who reads (their embargoed notebooks are shown to them);
        None without a token; a bad token is a 401 as on the write routes."""
        if not self.request.headers.get("Authorization"):
            return None
        return (await self.identity()).sub

    def experiment(self, raw: str) -> str:
        return experiment_code(raw, self.config.experiment_regex())

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))

    def query_argument(self, name: str) -> str | None:
        """The last value of a query parameter exactly as sent (Tornado's ``get_query_argument``
        turns control characters into spaces, so a rule refusing them never saw them)."""
        values = self.request.query_arguments.get(name)
        if not values:
            return None
        try:
            return values[-1].decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"the query parameter {name[:40]!r} is not UTF-8") from None

    def page_args(self) -> tuple[int, str | None]:
        """``limit`` and ``cursor`` of a list request (400 when either is bad)."""
        return (
            page_limit(self.query_argument("limit")),
            page_cursor(self.query_argument("cursor")),
        )

    def write_page(self, data: dict[str, Any], key: str, page: ListPage, limit: int) -> None:
        """A list answer: ``key`` holds the page; ``next`` and ``Link`` lead to the next one."""
        following = None
        if page.next_cursor is not None:
            kept = [
                (name, value)
                for name, values in self.request.query_arguments.items()
                if name not in ("limit", "cursor")
                for value in (v.decode("utf-8", "replace") for v in values)
            ]
            query = urlencode([*kept, ("limit", str(limit)), ("cursor", page.next_cursor)])
            following = f"{self.request.path}?{query}"
            self.set_header("Link", f'<{following}>; rel="next"')
        data[key] = page.items
        data["next"] = following
        data["next_cursor"] = page.next_cursor
        self.write_json(data)


class NotFoundHandler(BaseHandler):
    """Any path without a route: 404 for every method, before any body."""

    def route_refusal(self) -> BaseException | None:
        return web.HTTPError(404)

    def _not_found(self, *args: str) -> None:
        raise web.HTTPError(404)  # reached only for a request without a body (see bodies.py)

    get = head = post = put = patch = delete = options = _not_found


class HealthHandler(BaseHandler):
    def get(self) -> None:
        self.write_json({"status": "ok", "version": __version__})


class OpenAPIHandler(BaseHandler):
    def get(self) -> None:
        self.set_header("Cache-Control", "public, max-age=300")
        self.write_json(openapi_document(self.config.experiment_pattern))


class SubmitBase(BaseHandler):
    """POST: the cheap checks (token, experiment, content type, key) before the body; then one
    submit. The body limit, what a refusal does to the body, and the timer: ``bodies.py``."""

    identity_: Identity
    key: str

    def body_limit(self) -> int:
        return int(self.settings["evn_body_limit"])

    def too_large(self) -> ServiceError:
        return PayloadTooLarge(
            f"the request is larger than this archive accepts (notebooks up to "
            f"{self.config.max_notebook_bytes} bytes)"
        )

    async def before_body(self) -> None:
        if self.request.method != "POST":
            return
        self.identity_ = await self.identity()
        self.experiment(self.path_args[0])
        check_content_type(self.request.headers.get("Content-Type"))
        self.key = idempotency_key(self.request.headers.get("Idempotency-Key"))

    async def _submit(self, code: str, owner: str | None, name: str | None) -> None:
        """Submit the body; ``owner``/``name`` None: the caller's folder, named by the body."""
        owner = username_folder(owner or self.identity_.username)
        if LEGACY_OWNER in (owner, self.identity_.username):
            raise Forbidden(
                f"{LEGACY_OWNER} holds the notebooks of the portal's old layout and is read only; "
                f"submit as yourself (ask the operator if your username is {LEGACY_OWNER})"
            )
        experiment = self.experiment(code)
        held, self.body_bytes = [self.body_bytes], bytearray()
        sub = await asyncio.to_thread(parse_submission, held, self.config.max_notebook_bytes)
        if name is not None:
            name = notebook_name(name)
            if sub.name_given and sub.name != name:
                raise BadRequest(f"the body names {sub.name!r} but the URL addresses {name!r}")
            sub.name = name
        result = await self.archive.submit(
            self.identity_, experiment, owner, sub, self.key, must_exist=name is not None
        )
        log.info(
            "submission",
            extra={"fields": {"experiment": experiment, "folder": result["folder"],
                              "version": result["version"], "created": result["created"],
                              "user": self.identity_.username}},
        )  # fmt: skip
        self.write_json(result, 201 if result["created"] else 200)


class NotebooksHandler(SubmitBase):
    async def get(self, code: str) -> None:
        experiment = self.experiment(code)
        limit, cursor = self.page_args()
        page = await self.reader.experiment_notebooks(
            experiment, limit, cursor, await self.reader_sub()
        )
        self.write_page({"experiment": experiment}, "notebooks", page, limit)

    async def post(self, code: str) -> None:
        await self._submit(code, None, None)


class VersionsHandler(SubmitBase):
    async def get(self, code: str, owner: str, name: str) -> None:
        experiment = self.experiment(code)
        limit, cursor = self.page_args()
        page = await self.reader.versions(
            experiment,
            username_folder(owner),
            notebook_name(name),
            limit,
            cursor,
            await self.reader_sub(),
        )
        self.write_page({"experiment": experiment}, "versions", page, limit)

    async def post(self, code: str, owner: str, name: str) -> None:
        await self._submit(code, owner, name)


class NotebookHandler(BaseHandler):
    """One notebook; a pinned version (``?version=N``) never changes, so it is cacheable."""

    async def get(self, code: str, owner: str, name: str) -> None:
        experiment = self.experiment(code)
        version = version_number(self.query_argument("version"))
        sub = await self.reader_sub()
        entry = await self.reader.notebook_entry(
            experiment, username_folder(owner), notebook_name(name), version, sub
        )
        if version is not None and not entry.embargoed:  # an embargoed one: no-store
            etag = f'"{entry.commit}"'
            self.set_header("ETag", etag)
            self.set_header("Cache-Control", IMMUTABLE)
            if _matches(self.request.headers.get("If-None-Match", ""), etag):
                self.set_status(304)
                self.finish()
                return
        notebook = await self.reader.notebook_bytes(entry)
        # the stored notebook is JSON already: spliced in, not parsed and serialised again
        self.finish(json.dumps(entry.data)[:-1].encode() + b', "notebook": ' + notebook + b"}")

    def compute_etag(self) -> str | None:
        return None  # only a pinned version has an ETag (its commit), set above


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, RFC 9110 13.1.2)."""
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


class ObservationHandler(BaseHandler):
    """What the archive's catalogue knows of an experiment (no token): the observation, 404 with
    close codes when it does not know the code, 503 when it cannot answer."""

    async def get(self, code: str) -> None:
        experiment = self.experiment(code)
        observation = await self.catalogue.require(experiment)
        if observation is None:  # no catalogue, or a code outside its scope
            self.write_json({"experiment": experiment, "catalogued": False})
            return
        self.write_json(observation.as_json(datetime.now(timezone.utc)))


class MySubmissionsHandler(BaseHandler):
    async def get(self) -> None:
        identity = await self.identity()
        limit, cursor = self.page_args()
        page = await self.reader.submissions_of(identity.sub, limit, cursor)
        self.write_page({}, "submissions", page, limit)


class SearchHandler(BaseHandler):
    async def get(self) -> None:
        query = search_query(self.query_argument, self.config.experiment_regex())
        limit, cursor = self.page_args()
        page = await self.reader.search(query, limit, cursor, await self.reader_sub())
        self.write_page({}, "notebooks", page, limit)
