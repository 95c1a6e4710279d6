"""The JSON body of Gitea's multi-file contents API, streamed: base64 computed as it is sent.

A submission's files are already in memory; the body wraps them in JSON with their contents in
base64, which is 4/3 of their size. ``build_body`` returns a ``CommitBody`` that knows its exact
length without building anything and yields the body in slices of at most 1 MiB, encoding each
slice of a file just before it is sent (``Fetcher.fetch`` streams it with that Content-Length),
so the body never exists whole beside the files it carries.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SLICE = 1 << 20  # the largest chunk; a multiple of 4, so whole base64 quanta fill it exactly


def git_blob_sha(data: bytes | bytearray) -> str:
    """The object id git gives ``data`` (Gitea's ``sha`` of a file), without copying ``data``."""
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()


@dataclass
class FileChange:
    operation: str  # create | update | delete
    path: str
    content: bytes | bytearray | None = None
    sha: str | None = None


def _b64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


class CommitBody:
    """The request body: JSON text around file contents that are base64-encoded on the way out.

    ``parts`` alternates literal JSON text (``bytes``) and file contents (``bytearray`` or a
    ``memoryview``-able object wrapped in a one-element ``tuple``) to encode. ``chunks()`` may be
    called again (a retried request re-sends the body); it holds no copy of the body.
    """

    __slots__ = ("_parts", "length")

    def __init__(self, parts: list[bytes | tuple[bytes | bytearray]]) -> None:
        self._parts = parts
        self.length = sum(
            len(part) if isinstance(part, bytes) else _b64_length(len(part[0])) for part in parts
        )

    def chunks(self) -> Iterator[bytes]:
        """The body in order, in slices of at most ``SLICE`` bytes (full ones where it can)."""
        pending = bytearray()
        for part in self._parts:
            if isinstance(part, bytes):
                pending += part
                while len(pending) >= SLICE:
                    yield bytes(pending[:SLICE])
                    del pending[:SLICE]
            else:
                yield from _encoded(memoryview(part[0]), pending)
        if pending:
            yield bytes(pending)

    def tobytes(self) -> bytes:
        """The whole body at once (tests, small bodies)."""
        return b"".join(self.chunks())

    def __bytes__(self) -> bytes:
        return self.tobytes()

    def __len__(self) -> int:
        return self.length


def _encoded(view: memoryview, pending: bytearray) -> Iterator[bytes]:
    """``view`` in base64 appended after ``pending``: every slice yielded is full (``SLICE``)
    and what is left over stays in ``pending``. Slices of the input are whole 3-byte groups,
    so padding can only come at the very end, as one base64 encoding of the whole would have it.
    """
    pos, size = 0, len(view)
    with view:
        while pos < size:
            take = min((SLICE - len(pending)) // 4 * 3, size - pos)
            if take <= 0:
                yield bytes(pending)
                pending.clear()
                continue
            encoded = binascii.b2a_base64(view[pos : pos + take], newline=False)
            pos += take
            if not pending and len(encoded) == SLICE:
                yield encoded
            else:
                pending += encoded


def _head(value: dict[str, Any]) -> bytes:
    """``value`` as a JSON object still open for more members (no closing brace)."""
    return json.dumps(value)[:-1].encode()


def build_body(
    *,
    branch: str,
    message: str,
    author: dict[str, str],
    committer: dict[str, str],
    files: list[FileChange],
) -> CommitBody:
    """The contents-API body of one commit of ``files``; nothing is encoded until it is sent."""
    parts: list[bytes | tuple[bytes | bytearray]] = []
    text = _head({"branch": branch, "message": message, "author": author, "committer": committer})
    text += b', "files": ['
    for i, change in enumerate(files):
        if i:
            text += b", "
        meta: dict[str, str] = {"operation": change.operation, "path": change.path}
        if change.sha:
            meta["sha"] = change.sha
        text += _head(meta)
        if change.content is not None:
            parts += [text + b', "content": "', (change.content,)]
            text = b'"'
        text += b"}"
    parts.append(text + b"]}")
    return CommitBody(parts)
