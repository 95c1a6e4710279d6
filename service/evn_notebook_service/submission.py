"""A submission request turned into checked, ready-to-store parts (runs in a worker thread)."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from typing import Any

import nbformat
from nbformat.validator import ValidationError

from .contract import idempotency_key as key_rule
from .contract import (
    json_loads,
    limit,
    name_from_title,
    notebook_name,
    parse_metadata,
    schema,
    text_field,
)
from .errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

BODY_FIELDS = set(schema("Submission")["properties"])
PROVENANCE_MAX = limit("max_provenance_bytes")
MESSAGE_MAX = schema("Submission")["properties"]["message"]["maxLength"]


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


def dump_json(value: Any) -> bytes:
    """JSON in nbformat's on-disk layout (stable diffs between versions).

    Written piece by piece into one buffer: ``json.dumps`` would hold the escaped pieces, the
    joined text and its encoding at once (3x a big notebook).
    """
    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=True)
    json.dump(value, text, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "))
    text.write("\n")
    text.detach()
    return out.getvalue()  # CPython hands over the buffer itself: no copy


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


def _notebook(raw: Any, max_bytes: int) -> tuple[bytes, str]:
    if not isinstance(raw, dict):
        raise BadRequest("notebook must be a Jupyter notebook object (nbformat 4 JSON)")
    if raw.get("nbformat") != 4:
        raise BadRequest(
            f"notebook must be nbformat 4 (got nbformat {str(raw.get('nbformat'))[:20]}); "
            "save it with a current Jupyter"
        )
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
    if not raw.get("cells"):
        raise BadRequest("notebook has no cells; there is nothing to archive")
    data = dump_json(raw)
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the notebook is {len(data)} bytes; the archive accepts at most {max_bytes} bytes "
            "(strip large outputs and submit again)"
        )
    language = str(
        (raw.get("metadata") or {}).get("kernelspec", {}).get("language")
        or (raw.get("metadata") or {}).get("language_info", {}).get("name")
        or ""
    )
    return data, language


def parse_submission(held: list[bytearray], max_bytes: int) -> Submission:
    """Check the JSON body of ``POST …/notebooks``; every problem is a 4xx naming the field.

    ``held`` holds the only reference to the request body: it is taken out and dropped once
    parsed, so a big notebook is not held twice while it is serialised for storage.
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
    notebook, language = _notebook(data["notebook"], max_bytes)
    return Submission(
        name=name,
        notebook=notebook,
        metadata=metadata,
        message=message,
        provenance=provenance,
        kernel_language=language,
        fingerprint=fingerprint,
        name_given=bool(raw_name),
    )


def _body_object(held: list[bytearray]) -> tuple[dict[str, Any], str]:
    """The body as a JSON object with only known fields and a notebook, and its SHA-256."""
    body = held.pop()
    if not body or body.isspace():
        raise BadRequest("the request body is empty; send {notebook, metadata, ...} as JSON")
    fingerprint = hashlib.sha256(body).hexdigest()
    # strict UTF-8, depth, NaN and lone surrogates (cells, metadata, provenance, message): a
    # RuleError is a 400 here rather than a UnicodeEncodeError (500) when the notebook is stored
    data = json_loads(body)
    del body
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
