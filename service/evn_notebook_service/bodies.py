"""Request bodies, decided from the headers alone (docs/hardening.md, "No 5xx for any input").

Every route streams its body (``StreamingHandler``); ``prepare`` runs before any body byte is
read, so everything the headers already tell is answered at once:

- framing the service cannot trust (``Content-Length`` not a whole number, a list, or sent with
  ``Transfer-Encoding``; a transfer coding other than ``chunked``): 400;
- a route that does not exist (404) or a method the route does not have (405 with ``Allow``);
- a body on GET, HEAD, DELETE or OPTIONS: 400;
- a ``Content-Length`` over the route's limit: 413.

Such an answer is written before Tornado would send ``100 Continue``, so a client that asked
first never sends its body. The connection is then taken over from Tornado (``detach``, allowed
while the headers are being handled) and closed politely (``linger``): the answer is flushed, the
sending side shut, and what the client still sends is read and thrown away, up to
``DRAIN_BYTES`` and ``DRAIN_SECONDS``, so a client busy sending still reads the answer instead of
a connection reset. A body announced as larger than ``DRAIN_BYTES`` is not drained at all.

A refusal found by a route's own header checks (``before_body``: token, content type,
idempotency key) is different: the body is within the route's limit, so it is read and dropped
(never held) and the refusal is answered once it is complete; answering earlier would close the
connection under a client still sending, which then sees a broken pipe instead of the message.
A client that sent ``Expect: 100-continue`` has not sent anything yet, so it is answered at once.

A body that does not complete within ``body_timeout_seconds`` is answered 408 and its connection
closed (Tornado's own ``body_timeout``, a backstop in ``__main__``, closes without a word).
A chunked body that grows past the route's limit is answered 413 as soon as it does.
"""

from __future__ import annotations

import asyncio
import functools
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tornado import httputil, iostream, web
from tornado.concurrent import Future
from tornado.http1connection import HTTP1Connection
from tornado.ioloop import IOLoop

from .errors import BadRequest, PayloadTooLarge, RequestTimeout, ServiceError

NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
HANDLER_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# after an answer from the headers: at most this much of a body still arriving is read and
# dropped (so the client reads the answer), for at most this long; a larger body is not drained
DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 10.0
# a body of a known length from here up is given its whole room with the first chunk: grown
# chunk by chunk, a bytearray over-allocates by an eighth (6 MB more for a 50 MB notebook)
PREALLOCATE_BYTES = 1024 * 1024
_DIGITS = re.compile(r"[0-9]+")
_HUGE = 10**18  # a Content-Length of more digits than this: larger than any limit
_lingering: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class Framing:
    """How long the request body is: ``length`` (Content-Length) or ``chunked``; neither: none."""

    length: int | None
    chunked: bool

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.length)


def framing(headers: httputil.HTTPHeaders) -> Framing:
    """The body's framing from the headers, or a 400 when it cannot be trusted."""
    lengths = headers.get_list("Content-Length")
    codings = headers.get_list("Transfer-Encoding")
    if lengths and codings:
        raise BadRequest("send either Content-Length or Transfer-Encoding: chunked, not both")
    if codings:
        if len(codings) > 1 or codings[0].strip().lower() != "chunked":
            raise BadRequest("the only Transfer-Encoding accepted is a single 'chunked'")
        return Framing(None, True)
    if not lengths:
        return Framing(None, False)
    if len(lengths) > 1 or not _DIGITS.fullmatch(lengths[0]):
        raise BadRequest(
            f"Content-Length must be one whole number of bytes, not {', '.join(lengths)[:40]!r}"
        )
    digits = lengths[0].lstrip("0") or "0"
    return Framing(int(digits) if len(digits) < 19 else _HUGE, False)


def allowed_methods(cls: type[web.RequestHandler]) -> tuple[str, ...]:
    """The methods a handler class implements (what ``Allow`` lists)."""
    return tuple(
        m
        for m in HANDLER_METHODS
        if getattr(cls, m.lower()) is not getattr(web.RequestHandler, m.lower())
    )


def _after_body(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an HTTP method: it runs once the body is complete, so the body timer stops and a
    refusal kept until then is raised instead."""

    @functools.wraps(method)
    def run(self: StreamingHandler, *args: Any, **kwargs: Any) -> Any:
        if self.body_complete():
            return method(self, *args, **kwargs)
        return None

    run.evn_after_body = True  # type: ignore[attr-defined]
    return run


@web.stream_request_body
class StreamingHandler(web.RequestHandler):
    """Reads every body itself (see the module's docstring); subclasses set ``body_limit``,
    ``before_body`` and ``route_refusal``, and find the body in ``self.body_bytes``."""

    refusal: BaseException | None = None  # found before the body, raised once it is complete
    closing = False  # the answer goes with Connection: close
    prepared = False  # prepare ran (an error before it, e.g. 405 for PROPFIND, closes)
    body_done = False  # the body is complete: the HTTP method runs (or ran)
    received = 0
    _timer: object | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in (m.lower() for m in HANDLER_METHODS):
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "evn_after_body", False):
                setattr(cls, name, _after_body(method))

    def body_limit(self) -> int:
        """Largest body this route reads, in bytes (0: none)."""
        return 0

    def too_large(self) -> ServiceError:
        return PayloadTooLarge(f"the request body is larger than {self.body_limit()} bytes")

    def route_refusal(self) -> BaseException | None:
        """A 404 or 405 known from the route and method alone (None: the route answers)."""
        if self.request.method not in allowed_methods(type(self)):
            return web.HTTPError(405)
        return None

    async def before_body(self) -> None:
        """The route's own header checks; what they raise is answered after the body."""

    async def prepare(self) -> None:
        self.prepared = True
        self.body_bytes = bytearray()
        try:
            self.framing = framing(self.request.headers)
        except BadRequest as e:
            self.framing = Framing(None, True)  # a body of unknown length, never read
            self.refuse(e, at_once=True)
            return
        try:
            self._check_headers()
        except (ServiceError, web.HTTPError) as e:
            self.refuse(e, at_once=True)
            return
        try:
            await self.before_body()
        except Exception as e:
            self.refuse(e, at_once=self._expects_continue())
        if self.framing.has_body and not self._finished:
            timeout = self.settings["evn_config"].body_timeout_seconds
            self._timer = IOLoop.current().call_later(timeout, self._too_slow, timeout)

    def _expects_continue(self) -> bool:
        return self.request.headers.get("Expect", "").lower() == "100-continue"

    def _check_headers(self) -> None:
        refusal = self.route_refusal()
        if refusal is not None:
            raise refusal
        method = self.request.method or "GET"
        if method in NO_BODY_METHODS and self.framing.has_body:
            raise BadRequest(
                f"a {method} request carries no body; send its parameters in the query string"
            )
        if (self.framing.length or 0) > self.body_limit():
            raise self.too_large()

    def refuse(self, error: BaseException, *, at_once: bool) -> None:
        """Answer ``error`` now (and close politely) when a body would follow, else after it."""
        if not (at_once and self.framing.has_body):
            self.refusal = error
            return
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection) and connection.stream is not None:
            # taken over before the answer: Tornado neither sends 100 Continue nor reads on
            stream = connection.detach()
            self.request.connection = Written(stream)
            drain = self.framing.length is None or self.framing.length <= DRAIN_BYTES
            task = asyncio.ensure_future(linger(stream, drain))
            _lingering.add(task)
            task.add_done_callback(_lingering.discard)
        self._send(error)

    def data_received(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self._finished:
            if self.received > self.body_limit() + DRAIN_BYTES:
                self._close()  # drained enough of a body answered early
            return
        if self.received > self.body_limit():  # only a chunked body can get here
            self._answer_early(self.refusal or self.too_large())
        elif self.refusal is None:
            self._keep(chunk)

    def _keep(self, chunk: bytes) -> None:
        length = self.framing.length
        if length is None or length < PREALLOCATE_BYTES:
            self.body_bytes += chunk
            return
        if not self.body_bytes:
            self.body_bytes = bytearray(length)  # Tornado never passes more than the length
        start = self.received - len(chunk)
        self.body_bytes[start : start + len(chunk)] = chunk  # in place: the same length

    def body_complete(self) -> bool:
        """Called as the HTTP method starts: False when the request was answered already."""
        self.body_done = True
        self._stop_timer()
        if self._finished:
            self._close()
            return False
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal
        if len(self.body_bytes) > self.received:  # only if Tornado ever ended a body early
            del self.body_bytes[self.received :]
        return True

    def _too_slow(self, timeout: float) -> None:
        self._timer = None
        if self._finished:  # answered early, and the rest of the body is still not there
            self._close()
            return
        self._send(
            RequestTimeout(
                f"the request body did not arrive within {timeout:g} seconds; "
                "send it at once after the headers"
            )
        )  # Tornado closes the connection after the answer: the body is not complete

    def _answer_early(self, error: BaseException) -> None:
        """Answer in the middle of a body: written past Tornado, which goes on reading (and
        dropping) the rest, so the client still sending reads the answer; closed after the body,
        after ``DRAIN_BYTES`` more, or when the body timer fires."""
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection) and connection.stream is not None:
            self.request.connection = Written(connection.stream)
        self._send(error)

    def _close(self) -> None:
        """Close the connection of a request answered early, once its answer is sent."""
        if isinstance(self.request.connection, Written):
            self.request.connection.close_after_answer()

    def _send(self, error: BaseException) -> None:
        """The answer to ``error``, with Connection: close (see ``closing``)."""
        self.closing = True
        self.log_exception(type(error), error, error.__traceback__)
        status = error.status_code if isinstance(error, web.HTTPError) else 500
        self.send_error(status, exc_info=(type(error), error, error.__traceback__))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            IOLoop.current().remove_timeout(self._timer)
            self._timer = None

    def on_finish(self) -> None:
        if not isinstance(self.request.connection, Written):  # answered early: the timer stays
            self._stop_timer()

    def on_connection_close(self) -> None:
        self._stop_timer()
        super().on_connection_close()


class Written(httputil.HTTPConnection):
    """An answer written straight onto the stream, past Tornado's connection: taken over
    (``detach``) before the body, or while Tornado still reads and drops the body."""

    def __init__(self, stream: iostream.IOStream) -> None:
        self.stream = stream

    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        assert isinstance(start_line, httputil.ResponseStartLine)
        lines = [f"HTTP/1.1 {start_line.code} {start_line.reason}"]
        lines += [f"{name}: {value}" for name, value in headers.get_all()]
        return self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (chunk or b""))

    def write(self, chunk: bytes) -> Future[None]:
        try:
            return self.stream.write(chunk)
        except iostream.StreamClosedError:
            done: Future[None] = Future()
            done.set_result(None)
            return done

    def finish(self) -> None:
        pass

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        pass

    def close_after_answer(self) -> None:
        if not self.stream.closed():
            IOLoop.current().add_future(self.write(b""), lambda _: self.stream.close())


async def linger(stream: iostream.IOStream, drain: bool) -> None:
    """Flush the answer, shut the sending side, read and drop what the client still sends (up to
    ``DRAIN_BYTES`` for ``DRAIN_SECONDS``, when ``drain``), then close."""
    try:
        await stream.write(b"")  # resolves once everything written before is sent
        stream.socket.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + DRAIN_SECONDS
        drained = 0
        while drain and drained < DRAIN_BYTES and time.monotonic() < deadline:
            read = stream.read_bytes(64 * 1024, partial=True)
            drained += len(await asyncio.wait_for(read, deadline - time.monotonic()))
    except (iostream.StreamClosedError, OSError, asyncio.TimeoutError):
        pass  # the client closed, or is too slow to wait for: either way it is done
    finally:
        stream.close()
