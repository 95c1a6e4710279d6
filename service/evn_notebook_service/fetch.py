"""The one outbound HTTP wrapper: timeouts from the configuration, typed errors, safe logs."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.simple_httpclient import HTTPStreamClosedError, HTTPTimeoutError

from .errors import UpstreamTimeout, UpstreamUnavailable
from .logs import log

AsyncHTTPClient.configure(None, max_clients=64)
_SLICE = 1 << 20


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class Fetcher:
    """Sends requests for one upstream (``name`` appears in the messages: "Gitea", "Keycloak")."""

    def __init__(self, name: str, connect_timeout: float, request_timeout: float) -> None:
        self.name = name
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | bytearray | None = None,
        request_timeout: float | None = None,
    ) -> HTTPResponse:
        """Any HTTP status comes back as a response; no answer raises 503, too slow raises 504.

        A ``bytearray`` body is streamed from the buffer in slices rather than copied whole.
        """
        request = self._request(method, url, headers, body, request_timeout)
        started = time.perf_counter()
        response = await self._send(request)
        log.debug(
            "%s %s %s -> %s",
            self.name,
            method,
            _safe_url(url),
            response.code,
            extra={"fields": {"upstream_ms": round((time.perf_counter() - started) * 1000)}},
        )
        return response

    def _request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None,
        body: bytes | bytearray | None,
        request_timeout: float | None,
    ) -> HTTPRequest:
        headers = dict(headers or {})
        producer = None
        if isinstance(body, bytearray):
            headers["Content-Length"] = str(len(body))
            producer = _producer(body)
            body = None
        return HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=body,
            body_producer=producer,
            connect_timeout=self.connect_timeout,
            request_timeout=request_timeout or self.request_timeout,
            follow_redirects=False,
            decompress_response=True,
        )

    async def _send(self, request: HTTPRequest) -> HTTPResponse:
        """The one place that turns "no answer" into 503 and "too slow" into 504."""
        method, safe = request.method, _safe_url(request.url)
        try:
            return await AsyncHTTPClient().fetch(request, raise_error=False)
        except HTTPTimeoutError as e:
            log.warning("%s timed out: %s %s", self.name, method, safe)
            raise UpstreamTimeout(
                f"{self.name} did not answer in time; try again later "
                "(a submission retried with the same Idempotency-Key is committed at most once)"
            ) from e
        except (OSError, HTTPStreamClosedError, HTTPClientError) as e:
            log.warning("%s unreachable: %s %s: %s", self.name, method, safe, type(e).__name__)
            raise UpstreamUnavailable(
                f"{self.name} is unreachable; try again later "
                "(a submission retried with the same Idempotency-Key is committed at most once)"
            ) from e


def _producer(buffer: bytearray):
    async def produce(write) -> None:
        view = memoryview(buffer)
        for start in range(0, len(view), _SLICE):
            await write(bytes(view[start : start + _SLICE]))
        view.release()

    return produce


def json_headers(extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"Accept": "application/json", "Content-Type": "application/json", **(extra or {})}
