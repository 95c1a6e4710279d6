"""The submission's descriptive metadata: checked, normalised (ORCID as a URL), ready to store."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .errors import BadRequest

LICENSES = (
    "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0", "CC0-1.0",
    "ODbL-1.0", "PDDL-1.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "MPL-2.0",
    "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "LGPL-3.0-or-later",
    "AGPL-3.0-or-later", "Unlicense",
)  # fmt: skip
_ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$")
FIELDS = {"title", "description", "authors", "license", "keywords"}
AUTHOR_FIELDS = {"name", "orcid", "affiliation"}


def _text(value: Any, field: str, *, max_len: int, required: bool, multiline: bool = False) -> str:
    if value is None:
        if required:
            raise BadRequest(f"{field} is required")
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string")
    value = value.strip()
    if required and not value:
        raise BadRequest(f"{field} is required and must not be empty")
    if len(value) > max_len:
        raise BadRequest(f"{field} is {len(value)} characters long; at most {max_len} allowed")
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise BadRequest(f"{field} contains a control or invisible character (U+{ord(ch):04X})")
    return value


def orcid_url(raw: str) -> str:
    match = _ORCID.fullmatch(raw.strip())
    if not match:
        raise BadRequest(f"{raw!r} is not an ORCID iD (expected 0000-0002-1825-0097 or its URL)")
    digits = match.group(1).replace("-", "")
    total = 0
    for d in digits[:-1]:
        total = (total + int(d)) * 2
    check = (12 - total % 11) % 11
    if digits[-1] != ("X" if check == 10 else str(check)):
        raise BadRequest(f"{raw!r} is not a valid ORCID iD (its check digit is wrong)")
    return "https://orcid.org/" + match.group(1)


def _author(raw: Any, index: int) -> dict[str, str]:
    where = f"metadata.authors[{index}]"
    if not isinstance(raw, dict):
        raise BadRequest(f"{where} must be an object with name, orcid and affiliation")
    unknown = set(raw) - AUTHOR_FIELDS
    if unknown:
        raise BadRequest(f"{where} has unknown fields {sorted(unknown)}")
    author = {"name": _text(raw.get("name"), where + ".name", max_len=200, required=True)}
    if raw.get("orcid"):
        if not isinstance(raw["orcid"], str):
            raise BadRequest(f"{where}.orcid must be a string")
        author["orcid"] = orcid_url(raw["orcid"])
    affiliation = _text(raw.get("affiliation"), where + ".affiliation", max_len=300, required=False)
    if affiliation:
        author["affiliation"] = affiliation
    return author


def parse_metadata(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadRequest("metadata is required: an object with title, authors and license")
    unknown = set(raw) - FIELDS
    if unknown:
        raise BadRequest(f"metadata has unknown fields {sorted(unknown)}; known: {sorted(FIELDS)}")
    authors = raw.get("authors")
    if not isinstance(authors, list) or not authors:
        raise BadRequest("metadata.authors must be a non-empty list of {name, orcid, affiliation}")
    if len(authors) > 100:
        raise BadRequest("metadata.authors lists more than 100 authors")
    license_id = raw.get("license")
    if license_id not in LICENSES:
        raise BadRequest(
            f"metadata.license must be one of these SPDX ids: {', '.join(LICENSES)} "
            f"(got {str(license_id)[:40]!r})"
        )
    keywords = raw.get("keywords", [])
    if not isinstance(keywords, list) or len(keywords) > 50:
        raise BadRequest("metadata.keywords must be a list of at most 50 strings")
    return {
        "title": _text(raw.get("title"), "metadata.title", max_len=200, required=True),
        "description": _text(
            raw.get("description"), "metadata.description", max_len=10000, required=False,
            multiline=True,
        ),
        "authors": [_author(a, i) for i, a in enumerate(authors)],
        "license": license_id,
        "keywords": [
            _text(k, f"metadata.keywords[{i}]", max_len=100, required=True)
            for i, k in enumerate(keywords)
        ],
    }  # fmt: skip
