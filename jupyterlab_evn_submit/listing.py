"""Pages and searches as the extension and the command line ask the notebook service for them.

The contract (``contract/openapi.json``) declares the parameters: every list takes ``limit`` and
``cursor``, the search (``GET /api/v1/notebooks``) its filters and ``sort``. What can be checked
here is checked against that document before any network call, as a ``BadRequest`` (400, exit 4):
the page size, the sort order, the dates and the cone (``ra``, ``dec``, ``radius``: all three or
none, each a number in the contract's range; docs/catalogue.md). The rest (the cursor, the words,
the filters, the source name) goes through as given, and the service answers for it.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import contract
from .errors import BadRequest

SEARCH_PATH = "/api/v1/notebooks"
DATE_PARAMETERS = ("since", "until")
CONE_PARAMETERS = ("ra", "dec", "radius")
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")


@functools.cache
def _parameters(path: str) -> dict[str, dict[str, Any]]:
    """The query parameters of ``GET path`` in the contract: name -> schema."""
    doc = contract.document()
    found: dict[str, dict[str, Any]] = {}
    for param in doc["paths"][path]["get"].get("parameters", []):
        if "$ref" in param:  # "#/components/parameters/limit"
            param = doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        if param.get("in") == "query":
            found[param["name"]] = param.get("schema", {})
    return found


def search_parameters() -> tuple[str, ...]:
    """The names the search takes (``q``, ``experiment``, …, ``limit``, ``cursor``)."""
    return tuple(_parameters(SEARCH_PATH))


def sort_orders() -> tuple[str, ...]:
    sort = _parameters(SEARCH_PATH)["sort"]
    return tuple(sort["anyOf"][0]["enum"] if "anyOf" in sort else sort["enum"])  # or empty


def limit_range() -> tuple[int, int]:
    """The smallest and the largest page size (the ``limit`` every list takes)."""
    schema = contract.document()["components"]["parameters"]["limit"]["schema"]
    return int(schema["minimum"]), int(schema["maximum"])


@dataclass(frozen=True)
class Page:
    """Which page of a list: ``limit`` items from ``cursor`` (``None``: the service's default,
    the first page)."""

    limit: int | None = None
    cursor: str | None = None

    def params(self) -> dict[str, str]:
        out = {"limit": str(self.limit)} if self.limit is not None else {}
        return out | ({"cursor": self.cursor} if self.cursor else {})


def page(query: Mapping[str, Any]) -> Page:
    """The page asked for by ``limit`` and ``cursor`` in ``query`` (empty values: not given)."""
    cursor = query.get("cursor")
    return Page(_limit(query.get("limit")), str(cursor) if cursor else None)


def _limit(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    low, high = limit_range()
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        raise BadRequest(f"limit must be a whole number from {low} to {high} (items per page).")
    return value


def search_params(query: Mapping[str, Any]) -> dict[str, str]:
    """The service's search parameters from ``query``: the contract's names only, empty values
    left out, the page size, sort order and dates checked."""
    out = {
        name: str(query[name])
        for name in search_parameters()
        if query.get(name) is not None and str(query[name]) != ""
    }
    out.pop("limit", None)
    out.pop("cursor", None)
    if "sort" in out and out["sort"] not in sort_orders():
        raise BadRequest(f"sort must be one of {', '.join(sort_orders())}.")
    for name in DATE_PARAMETERS:
        if name in out:
            _date(name, out[name])
    _cone(out)
    return out | page(query).params()


def _cone(params: Mapping[str, str]) -> None:
    """A cone on the sky is ``ra``, ``dec`` and ``radius`` together (degrees), each a number
    within the bounds the contract declares for it."""
    given = [name for name in CONE_PARAMETERS if name in params]
    if not given:
        return
    if len(given) != len(CONE_PARAMETERS):
        raise BadRequest(
            "ra, dec and radius go together (a position and a radius, in degrees): "
            f"give all three or none, not only {', '.join(given)}."
        )
    for name in CONE_PARAMETERS:
        _in_bounds(name, params[name], _numeric(_parameters(SEARCH_PATH)[name]))


def _numeric(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """The numeric branch of a parameter's schema (a number, or ``anyOf`` with an empty string)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") in ("number", "integer"):
            return dict(branch)
    return schema


def _in_bounds(name: str, text: str, schema: Mapping[str, Any]) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open, high_open = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    value = float(text) if NUMBER.fullmatch(text) else math.nan
    ok = math.isfinite(value)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    ok = ok and (low_open is None or value > low_open) and (high_open is None or value < high_open)
    if not ok:
        bounds = [
            f"{word} {bound:g}"
            for word, bound in (
                ("from", low),
                ("above", low_open),
                ("to", high),
                ("below", high_open),
            )
            if isinstance(bound, (int, float))
        ]
        raise BadRequest(f"{name} must be a number of degrees {' '.join(bounds)}, not {text!r}.")


def _date(name: str, text: str) -> None:
    """A date (``2026-11-25``) or an ISO 8601 date-time (``2026-11-25T12:00:00Z``)."""
    try:
        if len(text) == 10:
            dt.date.fromisoformat(text)
        else:
            dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as e:
        raise BadRequest(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 date-time, not {text!r}."
        ) from e


def without_next_url(answer: dict[str, Any]) -> dict[str, Any]:
    """A list as the service answers it, for callers of the extension: ``next`` is a URL of the
    service's API and means nothing to them; ``next_cursor`` (``None`` on the last page) is
    what they send back as ``cursor``."""
    answer.pop("next", None)
    answer.setdefault("next_cursor", None)
    return answer
