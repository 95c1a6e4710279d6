"""A stand-in for the notebook service at the wire: real HTTP on 127.0.0.1, canned answers.

For the fast tests of what the extension and the command line send and how they follow pages;
the same behaviour is covered against the real service by the stack tests. Each request is
recorded (method, path, query, headers); ``answer`` sets a fixed answer for a path, ``pages``
serves a list a page at a time as the contract says (``limit`` 1-100, default 20; ``cursor`` the
``next_cursor`` of the previous page; ``next`` the relative URL of the next page).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, Any]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


class FakeService:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.routes: dict[str, Callable[[dict[str, str]], Answer]] = {}
        self.headers: dict[str, dict[str, str]] = {}  # extra response headers, per path
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the body is read and dropped; same canned answers
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET("POST")

            def do_GET(self, method: str = "GET") -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                path = urllib.parse.unquote(url.path)
                fake.seen.append(Seen(method, path, query, dict(self.headers)))
                route = fake.routes.get(path)
                status, body = route(query) if route else (404, {"message": f"no {path}"})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in fake.headers.get(path, {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeService:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(
        self, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.routes["/api/v1" + path] = lambda query: (status, body)
        self.headers["/api/v1" + path] = dict(headers or {})

    def pages(self, path: str, key: str, items: list[Any], **extra: Any) -> None:
        """Serve ``items`` under ``key`` a page at a time (cursor: ``"at-<offset>"``)."""

        def serve(query: dict[str, str]) -> Answer:
            limit = int(query.get("limit") or 20)
            cursor = query.get("cursor") or "at-0"
            if not cursor.startswith("at-") or not 1 <= limit <= 100:
                return 400, {"message": "This cursor was not given out by the archive."}
            start = int(cursor[3:])
            more = start + limit < len(items)
            following = f"at-{start + limit}" if more else None
            rest = {k: v for k, v in query.items() if k not in ("limit", "cursor")}
            next_url = None
            if following:
                params = rest | {"limit": str(limit), "cursor": following}
                next_url = f"/api/v1{path}?{urllib.parse.urlencode(params)}"
            page = items[start : start + limit]
            return 200, extra | {key: page, "next": next_url, "next_cursor": following}

        self.routes["/api/v1" + path] = serve

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == "/api/v1" + path]


def summary(i: int, experiment: str = "EG078B", **over: Any) -> dict[str, Any]:
    """A NotebookSummary (the contract's fields) numbered ``i``."""
    name = f"notebook-{i:03d}"
    return {
        "experiment": experiment,
        "owner": "demo",
        "name": name,
        "folder": f"demo/{name}",
        "title": f"Notebook {i}",
        "description": "",
        "authors": [{"name": "Demo Researcher"}],
        "license": "CC-BY-4.0",
        "keywords": [],
        "version": 1,
        "commit": f"{i:040x}",
        "updated": "2026-11-25T12:00:00Z",
        "permalink": f"http://127.0.0.1:3000/EVN/{experiment}/src/commit/{i:040x}/demo/{name}",
        "legacy": False,
    } | over
