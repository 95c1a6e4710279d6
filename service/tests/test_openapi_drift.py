"""The patterns contract/openapi.json declares for the service's parameters say exactly what the
code accepts: a client (or a fuzzer) that keeps to the document is never refused, and one that
breaks it always is. Hypothesis draws the candidates; nothing here needs the stack."""

from __future__ import annotations

from typing import Any

from evn_notebook_service.contract import (
    RuleError,
    document,
    licences,
    notebook_name,
    schema,
    username_folder,
)
from evn_notebook_service.errors import BadRequest
from evn_notebook_service.params import page_cursor, search_query, version_number
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

NAME_CHARS = "abcxyzCONLPTGIKgitlockipynb0123456789._-$/ \u00df"
names = st.one_of(
    st.text(NAME_CHARS, max_size=90),
    st.text(NAME_CHARS, max_size=84).map(lambda s: s + ".ipynb"),
    st.sampled_from(schema("NotebookName")["x-reserved"]).map(lambda s: s + ".x"),
    st.sampled_from(["CON", "con.ipynb", "a.git", "a.git.ipynb", "Lpt9", "a." * 3, "x" * 81]),
)


def _param(name: str) -> dict[str, Any]:
    return document()["components"]["parameters"][name]["schema"]


def _search(name: str) -> dict[str, Any]:
    params = document()["paths"]["/api/v1/notebooks"]["get"]["parameters"]
    return next(p["schema"] for p in params if p.get("name") == name)


def _declared(s: dict[str, Any], value: str) -> bool:
    if "$ref" in s:
        s = schema(s["$ref"].rsplit("/", 1)[1])
    pattern = s.get("pattern", "")
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        # the document's patterns are ECMA-262, where `$` is the end of the string only;
        # Python's `$` (jsonschema uses `re.search`) also matches before a final line break
        s = {**s, "pattern": pattern[:-1] + "\\Z"}
    return bool(Draft202012Validator(s).is_valid(value))  # pattern, lengths and `not` alike


def _accepts(rule: Any, value: str) -> bool:
    try:
        rule(value)
    except (RuleError, BadRequest):
        return False
    return True


@settings(max_examples=800)
@given(names)
def test_path_name_pattern_is_the_name_rule(value: str) -> None:
    assert _declared(_param("name"), value) == _accepts(notebook_name, value), value


@settings(max_examples=400)
@given(st.text("abz09._@-_legacyX ", max_size=30))
def test_owner_pattern_is_the_username_rule(value: str) -> None:
    assert _declared(_param("owner"), value) == _accepts(username_folder, value), value


@settings(max_examples=400)
@given(st.text("AZaz09_=-+/!. \x00", max_size=40) | st.just("A" * 2001))
def test_cursor_pattern_is_what_the_service_reads(value: str) -> None:
    assert _declared(_param("cursor"), value) == _accepts(page_cursor, value), value


@given(
    st.integers(min_value=-10, max_value=10**10).map(str) | st.text("0123456789²٣ -+.", max_size=12)
)
def test_version_schema_is_what_the_service_reads(value: str) -> None:
    s = document()["paths"]["/api/v1/experiments/{code}/notebooks/{owner}/{name}"]["get"]
    v = s["parameters"][0]["schema"]
    declared = value.isascii() and value.isdigit() and v["minimum"] <= int(value) <= v["maximum"]
    assert declared == _accepts(version_number, value), value


@settings(max_examples=300)
@given(st.from_regex(_search("since")["pattern"], fullmatch=True))
def test_every_declared_date_is_accepted(value: str) -> None:
    for name in ("since", "until"):
        search_query(lambda n, name=name: value if n == name else None)


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_search_text_pattern_is_what_the_service_accepts(value: str) -> None:
    for name in ("q", "author", "keyword"):
        declared = _declared(_search(name), value)
        accepted = _accepts(lambda v, n=name: search_query({n: v}.get), value)
        assert declared == accepted, (name, value)


def test_search_licences_are_the_metadata_licences() -> None:
    assert tuple(_search("license")["anyOf"][0]["enum"]) == licences()
    assert _search("license")["anyOf"][1] == {"type": "string", "maxLength": 0}  # empty: absent


@settings(max_examples=300)
@given(st.text("EGNZX0789", max_size=14) | st.from_regex(schema("ExperimentCode")["pattern"]))
def test_search_experiment_schema_is_what_the_service_accepts(value: str) -> None:
    choices = _search("experiment")["anyOf"]
    declared = any(_declared(s, value) if "$ref" in s else len(value) <= 0 for s in choices)
    accepted = _accepts(lambda v: search_query({"experiment": v}.get), value)
    assert declared == accepted, value
