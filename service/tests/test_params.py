"""The read API's query parameters (``params.py``): bounds from the contract, bad ones a 400."""

from __future__ import annotations

import re

import pytest
from evn_notebook_service.contract import document
from evn_notebook_service.errors import BadRequest
from evn_notebook_service.params import page_cursor, page_limit, search_query, version_number


def test_limit_follows_the_contract() -> None:
    schema = document()["components"]["parameters"]["limit"]["schema"]
    assert page_limit(None) == schema["default"] == 20
    assert page_limit(str(schema["minimum"])) == 1
    assert page_limit(str(schema["maximum"])) == 100
    for bad in ("0", "101", "-1", "1.5", "ten", "", "\u0662", "1e2"):
        with pytest.raises(BadRequest, match="limit must be a whole number from 1 to 100"):
            page_limit(bad)


def test_cursor_and_version() -> None:
    assert page_cursor(None) is None and page_cursor("") is None
    assert page_cursor("WyJ4IiwxXQ") == "WyJ4IiwxXQ"
    for bad in ("a b", "x/y", "x" * 2001, "é"):
        with pytest.raises(BadRequest, match="cursor"):
            page_cursor(bad)
    assert version_number(None) is None and version_number("7") == 7
    for bad in ("0", "\u00b2", "-1", "1" * 10, "v1"):
        with pytest.raises(BadRequest, match="version must be"):
            version_number(bad)


def _query(**given: str):
    return search_query(given.get)


def test_search_query_is_normalised() -> None:
    query = _query(
        q=" fringe ",
        experiment="eg078b",
        orcid="0000-0002-1825-0097",
        author="Demo",
        keyword="VLBI",
        license="MIT",
        since="2026-01-31",
        until="2026-02-01T12:30:00+01:00",
        sort="title",
    )
    assert (query.q, query.experiment) == ("fringe", "EG078B")
    assert query.orcid == "https://orcid.org/0000-0002-1825-0097"
    assert (query.author, query.keyword, query.license) == ("Demo", "VLBI", "MIT")
    assert (query.since, query.until) == ("2026-01-31T00:00:00Z", "2026-02-01T11:30:00Z")
    assert query.sort == "title"
    assert _query(until="2026-01-31").until == "2026-01-31T23:59:59Z", "a date: the whole day"
    assert _query(q="fringe\n  fitting\t").q == "fringe fitting", "pasted lines are words"
    empty = _query(q="", author="  ")
    assert (empty.q, empty.author, empty.sort) == ("", None, "relevance")


@pytest.mark.parametrize(
    ("given", "phrase"),
    [
        ({"since": "2026-02-30"}, "since must be an ISO 8601 date"),
        ({"until": "tomorrow"}, "until must be an ISO 8601 date"),
        ({"since": "0001-01-01T00:00:00+01:00"}, "since must be"),
        ({"since": "2026-02-02", "until": "2026-02-01"}, "since is after until"),
        ({"sort": "best"}, "sort must be one of relevance, updated, title"),
        ({"experiment": "EG078B/.."}, "not an EVN experiment code"),
        ({"orcid": "0000-0002-1825-0098"}, "check digit"),
        ({"license": "WTFPL"}, "license must be an SPDX id"),
        ({"q": "x" * 501}, "q is longer than 500"),
        ({"author": "x" * 201}, "author is longer than 200"),
        ({"q": "fringe\x00"}, "q contains a control character (U+0000)"),
        ({"keyword": "a\x85b"}, "keyword contains a control character (U+0085)"),
    ],
)
def test_bad_search_parameters_say_what_is_wrong(given: dict[str, str], phrase: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(phrase)):
        _query(**given)


def test_numbers_are_ascii_digits_only() -> None:
    for bad in (" 1", "1 ", "+1", "1e3", "0x1", "\uff11", "\u0663", "\u00b2", "9" * 5000, "1_0"):
        with pytest.raises(BadRequest, match="version must be"):
            version_number(bad)
        with pytest.raises(BadRequest, match="limit must be"):
            page_limit(bad)


def test_every_search_parameter_is_bounded() -> None:
    for name in ("experiment", "orcid", "license", "since", "until", "sort"):
        with pytest.raises(BadRequest, match=f"{name} is longer than"):
            _query(**{name: "x" * 5000})
