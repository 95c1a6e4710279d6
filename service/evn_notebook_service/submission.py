"""A submission request turned into checked, ready-to-store parts (runs in a worker thread)."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import nbformat
from nbformat.validator import ValidationError

from .contract import idempotency_key as key_rule
from .contract import (
    limit,
    name_from_title,
    notebook_name,
    parse_metadata,
    schema,
    text_field,
)
from .contract.jsonsafe import loads_taking
from .errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from .memory import release_freed_memory, release_soon
from .notebooktext import NotebookText, text_of

BODY_FIELDS = set(schema("Submission")["properties"])
PROVENANCE_MAX = limit("max_provenance_bytes")
MESSAGE_MAX = schema("Submission")["properties"]["message"]["maxLength"]
TRIM_ABOVE = 4 << 20  # after a notebook larger than this is parsed, freed memory is returned


@dataclass
class Submission:
    name: str
    notebook: bytes  # the notebook as stored: nbformat's JSON layout
    metadata: dict[str, Any]
    message: str
    provenance: bytes | None
    kernel_language: str
    fingerprint: str  # sha256 of the request body: a key reused for another body is refused
    name_given: bool = False
    text: NotebookText | None = None  # what the index searches, taken before the parse is dropped


def dump_json(value: Any, *, consume: bool = False) -> bytes:
    """JSON in nbformat's on-disk layout (stable diffs between versions): ``json.dump`` with
    ``indent=1, sort_keys=True, ensure_ascii=False``, and a final newline.

    Written piece by piece into one buffer, a long string escaped slice by slice: neither the
    escaped copy of a 50 MB image nor the whole text exists beside the value and the buffer.
    ``consume``: ``value`` is the caller's to lose — its long strings are taken out of it first
    and each is freed as soon as it is written, so the value and the output do not exist whole
    side by side (a 50 MB notebook of images: about 1.1x its size, not 2.1x).
    """
    longs = _Longs(value) if consume and _iterencode is _layout_iterencode else None
    out = io.BytesIO()
    small: list[str] = []
    for piece in _iterencode(value, longs):
        if isinstance(piece, str):
            small.append(piece)
            if len(small) >= 512:
                out.write("".join(small).encode())
                small.clear()
            continue
        small.append(piece.prefix + '"')
        out.write("".join(small).encode())
        small.clear()
        text = piece.text
        del piece  # the long string's last reference is now ``text``
        for start in range(0, len(text), _SLICE):
            out.write(_escape(text[start : start + _SLICE])[1:-1].encode())
        del text
        small.append('"')
    small.append("\n")
    out.write("".join(small).encode())
    return out.getvalue()  # CPython hands over the buffer itself: no copy


class _Longs:
    """The long strings of a value, taken out of it: each is replaced by a token (a nonce and
    its number, with NUL characters that no token-sized string of the value can share by
    chance), and handed to the encoder once, when the token is met."""

    def __init__(self, value: Any) -> None:
        self.prefix = "\x00evn-long-" + os.urandom(12).hex() + ":"
        self.taken: list[str | None] = []
        self._hollow(value)

    def _hollow(self, value: Any) -> None:
        if not isinstance(value, (dict, list)):
            return  # a value that is one string keeps it (nobody else holds it apart)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in list(items):
            if isinstance(item, str):
                if len(item) > _TAKE:
                    value[key] = f"{self.prefix}{len(self.taken)}\x00"
                    self.taken.append(item)
            elif isinstance(item, (dict, list)):
                self._hollow(item)

    def encode(self, text: str) -> str | _Long:
        if text.startswith(self.prefix) and text.endswith("\x00"):
            number = int(text[len(self.prefix) : -1])
            taken, self.taken[number] = self.taken[number], None
            return _escape(text) if taken is None else _encode_string(taken)
        return _encode_string(text)


_SLICE = 1 << 20  # a string longer than this is escaped and written in slices of this length
_TAKE = 1 << 16  # dump_json(consume=True) takes strings longer than this out of the value
_escape = json.encoder.encode_basestring  # ensure_ascii=False: per character, so slices agree


class _Long:
    """A long string met while encoding, written later in slices (``dump_json``)."""

    __slots__ = ("prefix", "text")

    def __init__(self, text: str, prefix: str = "") -> None:
        self.text = text
        self.prefix = prefix

    def __radd__(self, prefix: str) -> _Long:  # a list's item: json writes ``separator + item``
        return _Long(self.text, prefix + self.prefix)


def _encode_string(text: str) -> str | _Long:
    return _Long(text) if len(text) > _SLICE else _escape(text)


def _layout_iterencode(value: Any, longs: _Longs | None = None) -> Iterator[str | _Long]:
    """The pieces ``json.dump`` writes (its pure-Python encoder, which ``indent`` selects), with
    long strings left to ``dump_json`` (and those taken out of the value, ``longs``, put back)."""
    encoder = json.JSONEncoder(indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "))
    encode_string = _encode_string if longs is None else longs.encode
    iterencode = json.encoder._make_iterencode(  # type: ignore[attr-defined]
        {}, encoder.default, encode_string, encoder.indent, _floatstr,
        encoder.key_separator, encoder.item_separator, True, False, False,
    )  # fmt: skip
    return iterencode(value, 0)


def _floatstr(value: float) -> str:
    """``json``'s own spelling of a float (jsonsafe refuses NaN and infinities on the way in)."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _plain_iterencode(value: Any, longs: _Longs | None = None) -> Iterator[str | _Long]:
    encoder = json.JSONEncoder(indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "))
    return encoder.iterencode(value)


def _checked_iterencode() -> Callable[[Any, _Longs | None], Iterator[str | _Long]]:
    """The slicing encoder where this Python's ``json`` is as it expects, else plain pieces."""
    sample = {
        "b": ["x" * (_SLICE + 3) + '"\n\u00e9', {"y": 1.5, "z": None, "t": True, "i": -7}],
        "a": "q" * (_SLICE + 1),
    }
    expected = json.dumps(sample, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        pieces = list(_layout_iterencode(sample))
        got = (
            "".join(p if isinstance(p, str) else p.prefix + _escape(p.text) for p in pieces) + "\n"
        )
    except Exception:  # any change in json's internals: the plain encoder
        return _plain_iterencode
    return _layout_iterencode if got == expected else _plain_iterencode


_iterencode = _checked_iterencode()


def idempotency_key(raw: str | None) -> str:
    if not raw:
        raise BadRequest(
            "the Idempotency-Key header is required (e.g. a UUID); send the same key when retrying"
        )
    return key_rule(raw)


def check_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType(
            f"send the submission as application/json (got {media or 'no Content-Type'})"
        )


def _notebook(held: list[Any], max_bytes: int) -> tuple[bytes, str, NotebookText]:
    """The notebook (``held.pop()``, the only reference to it) checked and in the stored layout,
    and its kernel's language; the parsed notebook is dropped as soon as it is written."""
    raw = held.pop()
    if not isinstance(raw, dict):
        raise BadRequest("notebook must be a Jupyter notebook object (nbformat 4 JSON)")
    if raw.get("nbformat") != 4:
        raise BadRequest(
            f"notebook must be nbformat 4 (got nbformat {str(raw.get('nbformat'))[:20]}); "
            "save it with a current Jupyter"
        )
    _validate(raw)
    if not raw.get("cells"):
        raise BadRequest("notebook has no cells; there is nothing to archive")
    language = str(
        (raw.get("metadata") or {}).get("kernelspec", {}).get("language")
        or (raw.get("metadata") or {}).get("language_info", {}).get("name")
        or ""
    )
    text = text_of(raw)
    data = dump_json(raw, consume=True)  # the parsed notebook is lost as it is written
    del raw
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the notebook is {len(data)} bytes; the archive accepts at most {max_bytes} bytes "
            "(strip large outputs and submit again)"
        )
    return data, language, text


def _validate(raw: dict[str, Any]) -> None:
    """nbformat's schema check (with fastjsonschema, nbformat's default and fastest validator;
    jsonschema only runs to describe a notebook that fails)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(raw)
    except ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) if hasattr(e, "absolute_path") else ""
        raise BadRequest(
            f"notebook is not a valid nbformat 4 notebook: {e.message[:300]}"
            + (f" (at {where})" if where else "")
        ) from e


def parse_submission(held: list[bytearray], max_bytes: int) -> Submission:
    """Check the JSON body of ``POST …/notebooks``; every problem is a 4xx naming the field.

    ``held`` holds the only reference to the request body: it is dropped once decoded, the text
    once parsed and the parsed notebook once written in the stored layout, so a big notebook is
    held at most twice at any moment.
    """
    data, fingerprint = _body_object(held)
    metadata = parse_metadata(data.get("metadata"))
    raw_name = data.get("name")
    if raw_name is not None and not isinstance(raw_name, str):
        raise BadRequest("name must be a string such as 'calibration.ipynb'")
    name = notebook_name(raw_name) if raw_name else name_from_title(metadata["title"])
    message = text_field(
        data.get("message"), "message", max_len=MESSAGE_MAX, required=False, multiline=True
    )
    provenance = _provenance(data.get("provenance"))
    notebook, language, text = _notebook([data.pop("notebook")], max_bytes)
    sub = Submission(
        name=name,
        notebook=notebook,
        metadata=metadata,
        message=message,
        provenance=provenance,
        kernel_language=language,
        fingerprint=fingerprint,
        name_given=bool(raw_name),
        text=text,
    )
    if len(notebook) > TRIM_ABOVE:
        release_freed_memory()  # what the parse used
        # and, once the request is done with it, what the upload and the index used
        weakref.finalize(sub, release_soon).atexit = False
    return sub


def _body_object(held: list[bytearray]) -> tuple[dict[str, Any], str]:
    """The body as a JSON object with only known fields and a notebook, and its SHA-256."""
    body = held.pop()
    if not body or body.isspace():
        raise BadRequest("the request body is empty; send {notebook, metadata, ...} as JSON")
    fingerprint = hashlib.sha256(body).hexdigest()
    # strict UTF-8, depth, NaN and lone surrogates (cells, metadata, provenance, message): a
    # RuleError is a 400 here rather than a UnicodeEncodeError (500) when the notebook is stored
    box = [body]
    del body
    data = loads_taking(box)
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object {notebook, metadata, ...}")
    unknown = set(data) - BODY_FIELDS
    if unknown:
        raise BadRequest(f"unknown fields {sorted(unknown)}; allowed: {sorted(BODY_FIELDS)}")
    if "notebook" not in data:
        raise BadRequest("the field 'notebook' is required")
    return data, fingerprint


def _provenance(raw: Any) -> bytes | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRequest("provenance must be a JSON object")
    data = dump_json(raw)
    if len(data) > PROVENANCE_MAX:
        raise PayloadTooLarge(f"provenance is larger than {PROVENANCE_MAX} bytes")
    return data
