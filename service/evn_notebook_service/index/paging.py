"""The order and the cursor of a search's page (a keyset cursor, or an offset by relevance)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, tuple_

from .cursor import BadCursor
from .cursor import decode as decode_cursor
from .cursor import encode as encode_cursor
from .schema import notebooks

nb = notebooks.c


def search_rows(
    conn: Connection, stmt: Any, sort: str, rank: Any, limit: int, cursor: str | None
) -> tuple[Sequence[Any], Callable[[Any], str]]:
    if sort == "relevance":
        offset = decode_cursor(cursor, "relevance", int)[0] if cursor is not None else 0
        if offset < 0:
            raise BadCursor("the cursor is damaged; start from the first page")
        stmt = stmt.order_by(rank.desc(), nb.id).offset(offset)
        key: Callable[[Any], str] = lambda r: encode_cursor("relevance", offset + limit)  # noqa: E731
    elif sort == "updated":
        if cursor is not None:
            updated, last = decode_cursor(cursor, "updated", str, int)
            stmt = stmt.where(tuple_(nb.updated, nb.id) < tuple_(updated, last))
        stmt = stmt.order_by(nb.updated.desc(), nb.id.desc())
        key = lambda r: encode_cursor("updated", r.updated, r.id)  # noqa: E731
    else:
        if cursor is not None:
            title, last = decode_cursor(cursor, "title", str, int)
            stmt = stmt.where(tuple_(nb.title, nb.id) > tuple_(title, last))
        stmt = stmt.order_by(nb.title, nb.id)
        key = lambda r: encode_cursor("title", r.title, r.id)  # noqa: E731
    return conn.execute(stmt.limit(limit + 1)).all(), key
