"""Properties of the contract's rules and of ``jsonsafe.loads``, for any input (Hypothesis).

What ``contract/cases.json`` shows by example holds here for every generated input: a rule either
refuses with a ``RuleError`` or returns a value that is safe to use, and never raises anything else.
"""

from __future__ import annotations

import json
import re
from typing import Any

from evn_notebook_service.contract import (
    RuleError,
    ascii_upper,
    json_loads,
    limit,
    name_from_title,
    notebook_name,
    schema,
)
from evn_notebook_service.contract import experiment_code as code_rule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BOUNDED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# characters the rules must get right: look-alikes that str.upper/str.lower or NFKC turn into
# ASCII, digits that are not ASCII, invisible characters, separators, Windows' specials
TRICKY = (
    "\u00df\u017f\u212a\u0131\u0130\uff10\uff11\u00b2\u00b9\u0660\u0661\u06f1\u200b\u200d"
    '\u202e\u00a0\u2028\ufeff\x00\t\n\r\x0b\x0c\x7f /\\:*?"<>|$.-_'
)
ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TEXT = st.one_of(
    st.text(max_size=100),
    st.text(alphabet=st.sampled_from(ASCII + TRICKY), max_size=90),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
)
CODE_PATTERN = re.compile(schema("ExperimentCode")["pattern"])
CODES = st.one_of(
    TEXT,
    st.from_regex(CODE_PATTERN, fullmatch=True),
    st.from_regex(CODE_PATTERN, fullmatch=True).map(str.lower),
    st.from_regex(CODE_PATTERN, fullmatch=True).flatmap(
        lambda code: st.sampled_from([f" {code}", f"{code}\n", f"{code} ", f"\t{code}"])
    ),
)
NAMES = st.one_of(
    TEXT,
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,85}", fullmatch=True),
    st.sampled_from(
        ["con", "CON", "lpt9", "com0", "aux", "nul", "prn", "conin$", "clock$"]
    ).flatmap(
        lambda dev: st.sampled_from([dev, f"{dev}.txt", f"{dev.upper()}.ipynb", f"{dev}.x.y"])
    ),
)
OTHER = st.one_of(st.none(), st.integers(), st.floats(), st.lists(st.text(max_size=3)))

WINDOWS_DEVICES = {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"} | {
    f"{kind}{d}" for kind in ("com", "lpt") for d in "0123456789\u00b9\u00b2\u00b3"
}


@BOUNDED
@given(CODES)
def test_an_experiment_code_is_refused_or_canonical(raw: str) -> None:
    try:
        code = code_rule(raw)
    except RuleError as e:
        assert "not an EVN experiment code" in e.message
        return
    assert code.isascii()
    assert CODE_PATTERN.fullmatch(code)
    assert code == ascii_upper(raw)
    assert raw.upper() == code  # ASCII in, so str.upper agrees: nothing was folded


@BOUNDED
@given(OTHER)
def test_anything_but_a_string_is_refused(raw: Any) -> None:
    for rule in (code_rule, notebook_name):
        try:
            rule(raw)
        except RuleError:
            continue
        raise AssertionError(f"{rule.__name__} accepted {raw!r}")


def assert_safe_segment(name: str) -> None:
    """One path segment on POSIX and on Windows, naming neither a device nor a parent."""
    assert name not in ("", ".", "..") and ".." not in name
    assert name.isascii() and name.isprintable()
    assert not set(name) & set('/\\:*?"<>| \t\n\r')
    assert not name.endswith((".", " ")) and not name.startswith((".", "-"))
    assert name.lower().split(".")[0] not in WINDOWS_DEVICES
    assert not name.lower().endswith((".git", ".lock"))
    assert len(name) <= schema("NotebookName")["maxLength"]


@BOUNDED
@given(NAMES)
def test_a_notebook_name_is_refused_or_a_safe_path_segment(raw: str) -> None:
    try:
        name = notebook_name(raw)
    except RuleError as e:
        assert e.message.startswith(("the notebook name ", "'"))
        return
    assert_safe_segment(name)
    assert raw == name or (raw.startswith(name) and raw[len(name) :].lower() == ".ipynb")
    assert re.fullmatch(schema("NotebookName")["pattern"], name)


JSONISH = st.text(
    alphabet=st.sampled_from([*'[]{}",: 0123456789.-+eEtrufalsnNI\\ud8DCFy', "\ud800"]),
    max_size=120,
)
BODIES = st.one_of(
    st.binary(max_size=200),
    JSONISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
    JSONISH.map(lambda t: t.encode("utf-16", "surrogatepass")),
)


def assert_acceptable(value: Any) -> None:
    """What ``loads`` returns can be stored: strict JSON, UTF-8, within the depth limit."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")
    assert json_loads(text) == value


@BOUNDED
@given(BODIES)
def test_loads_refuses_or_returns_what_can_be_stored(body: bytes) -> None:
    try:
        value = json_loads(body)
    except RuleError as e:
        assert e.message.startswith("the request body ")
        return
    assert_acceptable(value)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=40,
)


@BOUNDED
@given(VALUES, st.booleans())
def test_any_json_value_round_trips(value: Any, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    assert json_loads(body) == value


@BOUNDED
@given(st.integers(min_value=1, max_value=3 * limit("max_json_depth")), st.sampled_from("[{"))
def test_depth_is_refused_exactly_beyond_the_limit(depth: int, opener: str) -> None:
    inner = "[" * depth + "]" * depth if opener == "[" else '{"a":' * depth + "0" + "}" * depth
    if depth <= limit("max_json_depth"):
        json_loads(inner)
    else:
        try:
            json_loads(inner)
        except RuleError as e:
            assert "nested deeper than" in e.message
        else:
            raise AssertionError(f"depth {depth} accepted")


def has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return True
    return False


SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


@BOUNDED
@given(st.lists(st.one_of(st.text(max_size=5), SURROGATE), max_size=6), st.booleans())
def test_surrogates_are_refused_unless_paired(pieces: list[str], in_key: bool) -> None:
    text = "".join(pieces)
    cell = {text: "x"} if in_key else {"source": text}
    body = json.dumps({"cells": [cell]}).encode()  # a surrogate is written as \udXXX
    try:
        value = json_loads(body)
    except RuleError as e:
        assert has_lone_surrogate(text)
        assert "lone surrogate" in e.message
        assert ("a key of cells/0" if in_key else "cells/0/source") in e.message
        return
    assert not has_lone_surrogate(text)
    assert_acceptable(value)


@BOUNDED
@given(
    st.one_of(st.text(max_size=200), st.sampled_from(["Con", "LPT1", "aux!", "ro-crate-preview"]))
)
def test_a_name_derived_from_any_title_is_accepted_as_it_is(title: str) -> None:
    try:
        name = name_from_title(title)
    except RuleError as e:
        assert "give a 'name'" in e.message
        return
    assert notebook_name(name) == name
    assert_safe_segment(name)
