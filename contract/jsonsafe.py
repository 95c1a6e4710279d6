"""JSON from an untrusted caller: strict UTF-8, no NaN, bounded depth, no lone surrogates.

The standard ``json`` module accepts what the archive must refuse, or fails in ways a caller
cannot act on: a body in UTF-16 or Latin-1 is decoded by guesswork, ``NaN`` and ``1e999`` become
floats no JSON encoder may write, a deeply nested body raises ``RecursionError``, a number of
5,000 digits raises a bare ``ValueError``, and ``"\\ud800"`` parses to a string that cannot be
encoded as UTF-8 (so the failure comes later, as a 500, when the value is written). ``loads``
turns every one of these into a ``RuleError`` whose message says what is wrong. Standard library
only; shared by the notebook service and the extension like ``rules.py``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

from .rules import RuleError, limit

# A \uD800-\uDFFF escape in the JSON text, or (a ``str`` body only: bytes are decoded strictly)
# a surrogate already in the text. Without one of these no parsed string can hold a lone
# surrogate, so the walk below is skipped. Two searches: the first starts with a literal, which
# ``re`` scans for fast (one alternation made it twenty times slower on a 20 MB body).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BOM = "\ufeff"


def loads(
    body: bytes | bytearray | str, *, max_depth: int | None = None, what: str = "the request body"
) -> Any:
    """The parsed JSON value of ``body``, or a ``RuleError`` saying why it cannot be accepted."""
    return _loads_text([_decode(body, what)], isinstance(body, str), max_depth, what)


def loads_taking(
    held: list[bytes] | list[bytearray],
    *,
    max_depth: int | None = None,
    what: str = "the request body",
) -> Any:
    """``loads(held.pop())``, holding a big body at most twice rather than three times.

    ``held`` holds the only reference to the body: it is dropped once decoded, and the decoded
    text once parsed, so the bytes, the text and the parsed values are never alive together.
    """
    body = held.pop()
    text = _decode(body, what)
    del body
    return _loads_text([text], False, max_depth, what)


def _loads_text(held: list[str], raw_text: bool, max_depth: int | None, what: str) -> Any:
    """Parse and check ``held.pop()``; ``raw_text``: it was not decoded from bytes here."""
    most = limit("max_json_depth") if max_depth is None else max_depth
    text = held.pop()
    # searched before parsing, so the text can go as soon as it is parsed
    escapes = _SURROGATE_ESCAPE.search(text) is not None or (
        raw_text and not text.isascii() and _SURROGATE.search(text) is not None
    )
    value = _parse(text, most, what)
    del text
    _check_depth(value, most, what)
    if escapes:
        _check_strings(value, what)
    return value


def _decode(body: bytes | bytearray | str, what: str) -> str:
    if isinstance(body, str):
        text = body
    else:
        if body.startswith(b"\xef\xbb\xbf"):
            raise RuleError(f"{what} starts with a byte-order mark; send UTF-8 without one")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            hint = " (it looks like UTF-16)" if body[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
            raise RuleError(
                f"{what} must be UTF-8{hint}: byte {e.start} (0x{body[e.start]:02x}) "
                "is not valid UTF-8"
            ) from None
    if text.startswith(_BOM):
        raise RuleError(f"{what} starts with a byte-order mark; send UTF-8 without one")
    return text


def _parse(text: str, most: int, what: str) -> Any:
    try:
        return json.loads(
            text,
            parse_constant=functools.partial(_refuse_constant, what),
            parse_float=functools.partial(_finite_float, what),
        )
    except RuleError:
        raise
    except json.JSONDecodeError as e:
        if "\x00" in text:  # never valid in JSON: UTF-16 or UTF-32 without a byte-order mark
            raise RuleError(f"{what} must be UTF-8 (it holds NUL bytes, as UTF-16 does)") from None
        raise RuleError(
            f"{what} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    except RecursionError:
        raise _too_deep(most, what) from None
    except ValueError as e:  # e.g. an integer beyond sys.get_int_max_str_digits()
        raise RuleError(f"{what} is not acceptable JSON: {e}") from None


def _refuse_constant(what: str, name: str) -> Any:
    raise RuleError(f"{what} holds {name}, which JSON does not have; send a number or null")


def _finite_float(what: str, text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RuleError(
            f"{what} holds the number {text[:40]}, too large for JSON; send a smaller one"
        )
    return value


def _too_deep(most: int, what: str) -> RuleError:
    return RuleError(
        f"{what} is nested deeper than {most} levels of arrays and objects; flatten it"
    )


def _check_depth(value: Any, most: int, what: str) -> None:
    """Arrays and objects at most ``most`` deep (the top-level container is level 1)."""
    if type(value) not in (list, dict):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > most:
            raise _too_deep(most, what)
        for child in node.values() if type(node) is dict else node:
            if type(child) in (list, dict):
                stack.append((child, depth + 1))


def _check_strings(value: Any, what: str) -> None:
    """Every string (value or key) encodable as UTF-8; the first that is not is named by path."""
    if not _all_utf8(value):
        _refuse_first_surrogate(value, what)


def _all_utf8(value: Any) -> bool:
    """The quick walk (no paths; ASCII strings skipped): about 0.1 s for a 20 MB notebook."""
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is str:
            if not node.isascii() and not _is_utf8(node):
                return False
        elif kind is dict:
            if not all(key.isascii() or _is_utf8(key) for key in node):
                return False
            stack.extend(node.values())
        elif kind is list:
            stack.extend(node)
    return True


def _refuse_first_surrogate(value: Any, what: str) -> None:
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if type(node) is str:
            if not _is_utf8(node):
                raise _surrogate(what, _where(path))
        elif type(node) is dict:
            for key, child in node.items():
                if not _is_utf8(key):
                    raise _surrogate(what, f"a key of {_where(path)}")
                stack.append((child, (*path, key)))
        elif type(node) is list:
            stack.extend((child, (*path, str(i))) for i, child in enumerate(node))


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _where(path: tuple[str, ...]) -> str:
    if not path:
        return "the top-level value"
    joined = "/".join(path)
    return joined if len(joined) <= 200 else "…" + joined[-199:]


def _surrogate(what: str, where: str) -> RuleError:
    return RuleError(
        f"{what} holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape) in {where}; "
        "text must be valid Unicode"
    )
