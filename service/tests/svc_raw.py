"""HTTP/1.1 on a raw socket, for tests about what goes over the wire (headers sent without a body,
a body sent slowly, the first bytes of an answer)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    first_line: bytes
    seconds: float = 0.0  # from the request's headers to the answer's end
    raw: bytes = field(default=b"", repr=False)

    def json(self) -> Any:
        return json.loads(self.body)


def head(method: str, path: str, port: int, **headers: str) -> bytes:
    """A request's head: ``headers`` as given (``Content_Length`` → ``Content-Length``)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def connect(port: int, timeout: float = 30) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_answer(sock: socket.socket, already: bytes = b"") -> Answer:
    """One answer (``already``: its first bytes, read before): its head, then a Content-Length
    body (or whatever comes until the close)."""
    started = time.monotonic()
    data = already
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer's head: {data!r}")
        data += chunk
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    first, *lines = head_bytes.split(b"\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    body = rest if length < 0 else rest[:length]
    return Answer(
        int(first.split()[1]), headers, body, first, time.monotonic() - started, head_bytes + rest
    )


def closed_by_server(sock: socket.socket, within: float = 5) -> bool:
    """Whether the server closes the connection (EOF or reset) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True
