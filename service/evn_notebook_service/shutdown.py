"""A graceful stop (docs/hardening.md, "Shutdown"): SIGTERM or SIGINT closes the listening
socket at once, closes idle keep-alive connections, lets the requests in flight finish for up to
``shutdown_grace_seconds`` (each answered with ``Connection: close``, its connection closed after
it), then cuts off the rest.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tornado import iostream
from tornado.httpserver import HTTPServer

from .logs import log


class Server(HTTPServer):
    """Tornado's server, knowing its connections' streams (to close the idle ones)."""

    def initialize(self, *args: Any, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.streams: set[iostream.IOStream] = set()

    def handle_stream(self, stream: iostream.IOStream, address: tuple[Any, ...]) -> None:
        self.streams = {s for s in self.streams if not s.closed()}
        self.streams.add(stream)
        super().handle_stream(stream, address)


class InFlight:
    """The requests this process is answering (handlers add and remove themselves)."""

    def __init__(self) -> None:
        self.handlers: set[Any] = set()
        self.draining = False
        self._none = asyncio.Event()
        self._none.set()

    def add(self, handler: Any) -> None:
        self.handlers.add(handler)
        self._none.clear()

    def discard(self, handler: Any) -> None:
        self.handlers.discard(handler)
        if not self.handlers:
            self._none.set()

    def busy_streams(self) -> set[iostream.IOStream]:
        streams = (getattr(h.request.connection, "stream", None) for h in self.handlers)
        return {s for s in streams if s is not None}

    async def drain(self, server: Server, grace: float) -> None:
        """Stop accepting, close idle connections, wait up to ``grace`` s, cut off the rest."""
        server.stop()
        self.draining = True
        busy = self.busy_streams()
        idle = [s for s in server.streams if not s.closed() and s not in busy]
        for stream in idle:
            stream.close()
        log.info(
            "stopping: no new connections; waiting for the requests in flight",
            extra={"fields": {"in_flight": len(self.handlers), "idle_closed": len(idle),
                              "grace_seconds": grace}},
        )  # fmt: skip
        try:
            await asyncio.wait_for(self._none.wait(), grace)
            log.info("stopping: every request in flight finished")
        except asyncio.TimeoutError:
            log.warning(
                "stopping: requests cut off after the grace period",
                extra={"fields": {"cut_off": len(self.handlers), "grace_seconds": grace}},
            )
        for stream in server.streams:
            stream.close()
        await server.close_all_connections()
