"""The submission's descriptive metadata, checked against the contract and normalised.

Lengths, counts and licences come from the ``Metadata`` and ``Author`` schemas of
``openapi.json``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .rules import RuleError, licences, orcid_url, schema


def _max(schema_name: str, field: str, key: str = "maxLength") -> int:
    return int(schema(schema_name)["properties"][field][key])


def _fields(schema_name: str) -> set[str]:
    return set(schema(schema_name)["properties"])


def text_field(
    value: Any, field: str, *, max_len: int, required: bool, multiline: bool = False
) -> str:
    if value is None:
        if required:
            raise RuleError(f"{field} is required")
        return ""
    if not isinstance(value, str):
        raise RuleError(f"{field} must be a string")
    value = value.strip()
    if required and not value:
        raise RuleError(f"{field} is required and must not be empty")
    if len(value) > max_len:
        raise RuleError(f"{field} is {len(value)} characters long; at most {max_len} allowed")
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise RuleError(f"{field} contains a control or invisible character (U+{ord(ch):04X})")
    return value


def _author(raw: Any, index: int) -> dict[str, str]:
    where = f"metadata.authors[{index}]"
    if not isinstance(raw, dict):
        raise RuleError(f"{where} must be an object with name, orcid and affiliation")
    unknown = set(raw) - _fields("Author")
    if unknown:
        raise RuleError(f"{where} has unknown fields {sorted(unknown)}")
    name = raw.get("name")
    author = {
        "name": text_field(name, where + ".name", max_len=_max("Author", "name"), required=True)
    }
    if raw.get("orcid"):
        if not isinstance(raw["orcid"], str):
            raise RuleError(f"{where}.orcid must be a string")
        author["orcid"] = orcid_url(raw["orcid"])
    most = _max("Author", "affiliation")
    affiliation = text_field(
        raw.get("affiliation"), where + ".affiliation", max_len=most, required=False
    )
    if affiliation:
        author["affiliation"] = affiliation
    return author


def _licence(raw: Any) -> str:
    known = licences()
    if raw not in known:
        raise RuleError(
            f"metadata.license must be one of these SPDX ids: {', '.join(known)} "
            f"(got {str(raw)[:40]!r})"
        )
    return str(raw)


def _authors(raw: Any) -> list[dict[str, str]]:
    most = _max("Metadata", "authors", "maxItems")
    if not isinstance(raw, list) or not raw:
        raise RuleError("metadata.authors must be a non-empty list of {name, orcid, affiliation}")
    if len(raw) > most:
        raise RuleError(f"metadata.authors lists more than {most} authors")
    return [_author(a, i) for i, a in enumerate(raw)]


def _keywords(raw: Any) -> list[str]:
    most = _max("Metadata", "keywords", "maxItems")
    if not isinstance(raw, list) or len(raw) > most:
        raise RuleError(f"metadata.keywords must be a list of at most {most} strings")
    each = schema("Metadata")["properties"]["keywords"]["items"]["maxLength"]
    return [
        text_field(k, f"metadata.keywords[{i}]", max_len=each, required=True)
        for i, k in enumerate(raw)
    ]


def parse_metadata(raw: Any) -> dict[str, Any]:
    """The checked, normalised metadata, or a ``RuleError`` naming the field."""
    if not isinstance(raw, dict):
        raise RuleError("metadata is required: an object with title, authors and license")
    known = _fields("Metadata")
    unknown = set(raw) - known
    if unknown:
        raise RuleError(f"metadata has unknown fields {sorted(unknown)}; known: {sorted(known)}")
    authors = _authors(raw.get("authors"))
    license_id = _licence(raw.get("license"))
    keywords = _keywords(raw.get("keywords", []))
    title_max = _max("Metadata", "title")
    description_max = _max("Metadata", "description")
    return {
        "title": text_field(raw.get("title"), "metadata.title", max_len=title_max, required=True),
        "description": text_field(
            raw.get("description"), "metadata.description", max_len=description_max,
            required=False, multiline=True,
        ),
        "authors": authors,
        "license": license_id,
        "keywords": keywords,
    }  # fmt: skip
