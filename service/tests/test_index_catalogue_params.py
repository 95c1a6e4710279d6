"""The search's ``target`` and cone parameters (issue 15): what the document declares is exactly
what the service accepts, and every refusal says what to send instead. No stack needed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from evn_notebook_service.contract import document
from evn_notebook_service.errors import BadRequest
from evn_notebook_service.params import search_query
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

CENTRE = {"ra": "10", "dec": "20", "radius": "1"}


def _search(name: str) -> dict[str, Any]:
    params = document()["paths"]["/api/v1/notebooks"]["get"]["parameters"]
    return next(p["schema"] for p in params if p.get("name") == name)


def _declared(name: str, raw: str) -> bool:
    """Whether the document admits ``raw`` for ``name``: the empty string, or a JSON number
    within the bounds (a query parameter's text is the number's JSON)."""
    if raw == "":
        return True
    if raw != raw.strip():  # a number's JSON has no spaces around it
        return False
    try:
        value = json.loads(raw)
    except ValueError:
        return False
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or str(value) in ("inf", "-inf", "nan")
    ):
        return False
    return Draft202012Validator(_search(name)["anyOf"][0]).is_valid(value)


def _accepted(**given: str) -> bool:
    try:
        search_query(given.get)
    except BadRequest:
        return False
    return True


numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    st.integers(min_value=-400, max_value=400).map(str),
    st.floats(min_value=-100, max_value=400).map(lambda f: f"{f:.3e}"),
    st.text("0123456789.-+eE xn_", max_size=8),
    st.sampled_from(
        [
            "",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e999",
            "0x10",
            "1_0",
            " 1",
            "1 ",
            "01",
            ".5",
            "5.",
            "+5",
            "-0",
            "٣",
            "²",
            "360",
            "359.9999999",
            "90",
            "-90.0",
            "10",
            "1e1",
            "0",
            "1e-300",
        ]
    ),
)


@settings(max_examples=500)
@given(st.sampled_from(["ra", "dec", "radius"]), numbers)
def test_cone_schemas_are_what_the_service_accepts(name: str, raw: str) -> None:
    params = {**CENTRE, name: raw}
    if raw == "":  # empty is absent: the other two alone are refused
        assert not _accepted(**params)
        return
    assert _declared(name, raw) == _accepted(**params), (name, raw)


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_target_schema_is_what_the_service_accepts(value: str) -> None:
    s = {**_search("target"), "pattern": _search("target")["pattern"][:-1] + "\\Z"}
    assert Draft202012Validator(s).is_valid(value) == _accepted(target=value), value


def test_the_cone_is_parsed_in_degrees() -> None:
    assert search_query({"ra": "359.5", "dec": "-89.25", "radius": "1e-4"}.get).cone == (
        359.5,
        -89.25,
        0.0001,
    )
    assert search_query({}.get).cone is None
    assert search_query({"ra": "", "dec": "", "radius": ""}.get).cone is None
    assert search_query({"target": "  3C 345 "}.get).target == "3C 345"
    assert search_query({"target": "   "}.get).target is None


@pytest.mark.parametrize(
    ("given", "phrase"),
    [
        ({"ra": "10"}, "needs ra, dec and radius together (degrees); dec, radius are missing"),
        ({"ra": "10", "dec": "20"}, "radius is missing"),
        ({"dec": "20", "radius": "1"}, "ra is missing"),
        ({"ra": "", "dec": "20", "radius": "1"}, "ra is missing"),
        ({**CENTRE, "ra": "360"}, "ra must be from 0 to less than 360 degrees, not '360'"),
        ({**CENTRE, "ra": "-1"}, "ra must be from 0 to less than 360 degrees"),
        ({**CENTRE, "dec": "90.5"}, "dec must be from -90 to 90 degrees"),
        ({**CENTRE, "radius": "0"}, "radius must be more than 0 to 10 degrees, not '0'"),
        ({**CENTRE, "radius": "10.01"}, "radius must be more than 0 to 10 degrees"),
        ({**CENTRE, "radius": "1e999"}, "radius must be more than 0 to 10 degrees"),
        (
            {**CENTRE, "ra": "12h30m"},
            "ra must be a number of degrees (from 0 to less than 360), not '12h30m'",
        ),
        ({**CENTRE, "dec": "nan"}, "dec must be a number of degrees"),
        ({**CENTRE, "dec": " 20"}, "dec must be a number of degrees"),
        ({"target": "x" * 65}, "target is longer than 64 characters"),
        ({"target": "3C\x00345"}, "target contains a control character (U+0000)"),
    ],
)
def test_bad_cone_or_target_says_what_is_wrong(given: dict[str, str], phrase: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(phrase)):
        search_query(given.get)
