"""Opaque page cursors: URL-safe base64 (no padding) of a JSON list, the last row's sort key.

The first element names the listing the cursor belongs to, so a cursor of one listing (or of one
search order) is refused by another instead of silently paging from a wrong place.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


class BadCursor(ValueError):
    """The cursor was not made by this listing (the handlers answer 400)."""


def encode(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str, kind: str, *types: type) -> list[Any]:
    """The sort key in ``cursor``, checked against the listing's ``kind`` and the key's types."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as e:
        raise BadCursor("the cursor is not one this service made; start from the first page") from e
    if not isinstance(value, list) or len(value) != len(types) + 1 or value[0] != kind:
        raise BadCursor("the cursor belongs to another listing; start from the first page")
    key = value[1:]
    for item, want in zip(key, types, strict=True):
        # bool is an int to Python; a cursor never carries one
        if not isinstance(item, want) or isinstance(item, bool):
            raise BadCursor("the cursor is damaged; start from the first page")
    return key
