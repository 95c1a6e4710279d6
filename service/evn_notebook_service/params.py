"""Query parameters of the read API, checked against the contract: every bad one is a 400.

Pure functions of a ``get(name) -> str | None`` (the handler's query arguments), so the rules
are tested without a server. Limits and enums come from ``contract/openapi.json``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from .contract import RuleError, document, experiment_code, licences, orcid_url
from .errors import BadRequest
from .index.records import SearchQuery, utc_iso

Get = Callable[[str], "str | None"]
_CURSOR = re.compile(r"[A-Za-z0-9_=-]+")  # URL-safe base64 (index/cursor.py)
_VERSION = re.compile(r"[0-9]{1,9}")  # ASCII digits only: no sign, space, '²' or '٣'
_TEXT_MAX = 200  # a search parameter the contract gives no maxLength (a pattern or an enum)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")  # JSON's grammar
_NUMBER_MAX = 40
CONE = ("ra", "dec", "radius")


def _parameter(name: str) -> dict[str, Any]:
    found: dict[str, Any] = document()["components"]["parameters"][name]["schema"]
    return found


def _search_parameter(name: str) -> dict[str, Any]:
    for p in document()["paths"]["/api/v1/notebooks"]["get"]["parameters"]:
        if p.get("name") == name:
            found: dict[str, Any] = p["schema"]
            return found
    raise KeyError(name)


def page_limit(raw: str | None) -> int:
    """``limit``: an integer within the contract's bounds (its default when absent)."""
    s = _parameter("limit")
    if raw is None:
        return int(s["default"])
    low, high = s["minimum"], s["maximum"]
    if not _VERSION.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadRequest(f"limit must be a whole number from {low} to {high}, not {raw[:20]!r}")
    return int(raw)


def page_cursor(raw: str | None) -> str | None:
    """``cursor``: opaque, but only ever URL-safe base64 of bounded length."""
    if raw is None or raw == "":
        return None
    if len(raw) > _parameter("cursor")["maxLength"] or not _CURSOR.fullmatch(raw):
        raise BadRequest(bad_cursor())
    return raw


def bad_cursor() -> str:
    return (
        "cursor is not one this service gave out; use the `next` link of the previous page, "
        "or start again without a cursor"
    )


def version_number(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not _VERSION.fullmatch(raw) or int(raw) < 1:
        raise BadRequest(f"version must be a positive whole number, not {raw[:20]!r}")
    return int(raw)


def _instant(raw: str, name: str, end_of_day: bool) -> str:
    """An ISO 8601 date or date-time in the index's form (a date: its first or last second)."""
    try:
        return utc_iso(raw, end_of_day=end_of_day)
    except (ValueError, OverflowError):
        raise BadRequest(
            f"{name} must be an ISO 8601 date such as 2026-01-31 (or a date-time such as "
            f"2026-01-31T12:00:00Z), not {raw[:40]!r}"
        ) from None


def _text(get: Get, name: str) -> str | None:
    raw = get(name)
    if raw is None or not raw.strip():
        return None
    s = _search_parameter(name)
    most = s.get("maxLength", _TEXT_MAX)
    if len(raw) > most:
        raise BadRequest(f"{name} is longer than {most} characters")
    raw = " ".join(raw.split("\n"))  # a pasted line break is a space; other controls are refused
    control = next((c for c in raw if unicodedata.category(c) == "Cc" and c not in "\t\r"), None)
    if control is not None:
        raise BadRequest(f"{name} contains a control character (U+{ord(control):04X})")
    return " ".join(raw.split()) if name == "q" else raw.strip()


def _token(get: Get, name: str) -> str | None:
    """A code, an id, an enum value or a date as sent: empty means absent; never trimmed, so
    " EG078B" or "title " is refused as the document's pattern or enum says (free text, by
    contrast, is trimmed: ``_text``)."""
    raw = get(name)
    if not raw:
        return None
    most = _search_parameter(name).get("maxLength", _TEXT_MAX)
    if len(raw) > most:
        raise BadRequest(f"{name} is longer than {most} characters")
    if raw != raw.strip():
        raise BadRequest(f"{name} has spaces around it: send {raw.strip()[:40]!r}")
    return raw


def search_query(get: Get, experiment_pattern: re.Pattern[str] | None = None) -> SearchQuery:
    """The search of ``GET /api/v1/notebooks`` from its query parameters."""
    query = SearchQuery(q=_text(get, "q") or "")
    try:
        raw = _token(get, "experiment")
        query.experiment = experiment_code(raw, experiment_pattern) if raw else None
        raw = _token(get, "orcid")
        query.orcid = orcid_url(raw) if raw else None
    except RuleError as e:
        raise BadRequest(e.message) from e
    query.author = _text(get, "author")
    query.keyword = _text(get, "keyword")
    query.license = _token(get, "license")
    if query.license is not None and query.license not in licences():
        raise BadRequest(
            f"license must be an SPDX id this archive uses ({', '.join(licences())}), "
            f"not {query.license[:40]!r}"
        )
    since, until = _token(get, "since"), _token(get, "until")
    query.since = _instant(since, "since", end_of_day=False) if since else None
    query.until = _instant(until, "until", end_of_day=True) if until else None
    if query.since and query.until and query.since > query.until:
        raise BadRequest("since is after until: no notebook can match")
    sort = _token(get, "sort") or _search_parameter("sort")["default"]
    allowed = _search_parameter("sort")["anyOf"][0]["enum"]
    if sort not in allowed:
        raise BadRequest(f"sort must be one of {', '.join(allowed)}, not {sort[:20]!r}")
    query.sort = sort
    query.target = _text(get, "target")
    query.cone = cone(get)
    return query


def _degrees(raw: str, name: str) -> float:
    """A number of degrees within the contract's bounds for ``name``."""
    s = _search_parameter(name)["anyOf"][0]  # the other choice: empty, which is absent
    low, high = (
        s.get("minimum", s.get("exclusiveMinimum")),
        s.get("maximum", s.get("exclusiveMaximum")),
    )
    bounds = f"{'more than' if 'exclusiveMinimum' in s else 'from'} {low} "
    bounds += f"{'to less than' if 'exclusiveMaximum' in s else 'to'} {high}"
    value = float(raw) if len(raw) <= _NUMBER_MAX and _NUMBER.fullmatch(raw) else None
    if value is None:
        raise BadRequest(f"{name} must be a number of degrees ({bounds}), not {raw[:20]!r}")
    ok = (value > low if "exclusiveMinimum" in s else value >= low) and (
        value < high if "exclusiveMaximum" in s else value <= high
    )
    if not ok:
        raise BadRequest(f"{name} must be {bounds} degrees, not {raw[:20]!r}")
    return value


def cone(get: Get) -> tuple[float, float, float] | None:
    """``ra``, ``dec`` and ``radius`` (degrees, ICRS): all three, or none of them."""
    given = {name: get(name) for name in CONE}
    sent = [name for name, raw in given.items() if raw]
    if not sent:
        return None
    if len(sent) < len(CONE):
        missing = ", ".join(n for n in CONE if n not in sent)
        raise BadRequest(
            f"a search by position needs ra, dec and radius together (degrees); {missing} "
            f"{'is' if len(CONE) - len(sent) == 1 else 'are'} missing"
        )
    ra, dec, radius = (_degrees(str(given[n]), n) for n in CONE)
    return (ra, dec, radius)
