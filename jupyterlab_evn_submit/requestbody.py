"""Request bodies of the extension's routes: small JSON objects, judged from the headers first.

The routes take paths and metadata, never a notebook (the notebook is read from the contents
manager), so a body is small: ``MAX_BODY_BYTES``. ``BoundedBody`` is a mixin for a handler
decorated with ``@web.stream_request_body``: its ``prepare`` runs jupyter_server's own first
(authentication, XSRF, origin), so an anonymous or forged request is refused before a byte of its
body is read; then it refuses from the headers alone a body that is too large (413, no
``100 Continue``), a ``Content-Length`` that is not a whole number, both ``Content-Length`` and
``Transfer-Encoding``, or a body on a method that carries none (400). ``data_received`` keeps at
most ``MAX_BODY_BYTES`` (a chunked body has no length to judge beforehand). ``json_object`` parses
with the contract's ``jsonsafe`` (strict UTF-8, depth limit, no lone surrogates, no NaN).
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from tornado import httputil, web

from . import contract
from .errors import BadRequest, BodyTooLarge, EvnSubmitError, to_http_error

#: The largest body a route takes: the submission form (path, metadata, message) is a few kB.
MAX_BODY_BYTES = 1 << 20
#: Methods whose requests carry no body.
BODYLESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def header_problem(
    method: str, headers: httputil.HTTPHeaders, limit: int = MAX_BODY_BYTES
) -> EvnSubmitError | None:
    """What is wrong with a request's body as its headers announce it (``None``: nothing)."""
    length = headers.get("Content-Length")
    chunked = "Transfer-Encoding" in headers
    if length is not None and chunked:
        return BadRequest(
            "Send either Content-Length or Transfer-Encoding, not both (the body's length is "
            "ambiguous)."
        )
    if length is not None and not _WHOLE_NUMBER.fullmatch(length.strip()):
        return BadRequest("Content-Length must be a whole number of bytes.")
    size = int(length) if length is not None else 0
    if method in BODYLESS and (size > 0 or chunked):
        return BadRequest(f"A {method} request carries no body; send the parameters in the URL.")
    if size > limit:
        return BodyTooLarge(size, limit)
    return None


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object (an empty body: ``{}``), or a ``BadRequest`` saying why not."""
    if not raw:
        return {}
    try:
        data = contract.json_loads(raw, what="it")
    except contract.RuleError as e:
        raise BadRequest(
            f"The request body is not JSON this route takes: {_sentence(e.message)}"
        ) from e
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object ({...}).")
    return data


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


class BoundedBody(JupyterHandler):
    """Mixin (first in the bases, before jupyter_server's handler) for streamed bodies."""

    max_body_bytes = MAX_BODY_BYTES
    _chunks: list[bytes]
    _received = 0

    async def prepare(self, **kwargs: Any) -> None:
        self._chunks = []
        await super().prepare(**kwargs)  # jupyter_server's: login, XSRF, origin
        if self._finished:  # jupyter_server answered (e.g. sent the browser to its login page)
            return
        method = self.request.method or "GET"
        if method not in BODYLESS and self.current_user is None:
            raise web.HTTPError(403)  # never read the body of an anonymous caller
        problem = header_problem(method, self.request.headers, self.max_body_bytes)
        if problem is not None:
            raise to_http_error(problem)

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._received += len(chunk)
        if self._received > self.max_body_bytes:  # chunked: no length to judge beforehand
            self._chunks = []
            error = to_http_error(BodyTooLarge(self._received, self.max_body_bytes))
            self.send_error(error.status_code, exc_info=(type(error), error, None))
            return
        self._chunks.append(chunk)

    def raw_body(self) -> bytes:
        return b"".join(self._chunks)
