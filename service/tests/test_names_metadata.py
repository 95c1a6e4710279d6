"""Pure rules: experiment codes, notebook names, ORCID iDs, metadata fields."""

from __future__ import annotations

import re

import pytest
from evn_notebook_service.config import DEFAULT_EXPERIMENT_PATTERN
from evn_notebook_service.contract import (
    RuleError,
    experiment_code,
    name_from_title,
    notebook_name,
    orcid_url,
    parse_metadata,
    username_folder,
)

PATTERN = re.compile(DEFAULT_EXPERIMENT_PATTERN)


@pytest.mark.parametrize(
    ("raw", "expected"), [("EG078B", "EG078B"), ("eg078b", "EG078B"), ("N24L1", "N24L1")]
)
def test_experiment_codes_are_upper_cased(raw: str, expected: str) -> None:
    assert experiment_code(raw, PATTERN) == expected


@pytest.mark.parametrize("raw", ["", "EG078B/../x", "..", "E G078", "EG078B.git", "1234", "E" * 40])
def test_bad_experiment_codes_are_refused(raw: str) -> None:
    with pytest.raises(RuleError, match="not an EVN experiment code"):
        experiment_code(raw, PATTERN)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("calibration.ipynb", "calibration"), ("cal_v2.final", "cal_v2.final"), ("A-1", "A-1")],
)
def test_good_names(raw: str, expected: str) -> None:
    assert notebook_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("a/b", "slash"),
        ("a\\b", "slash"),
        ("..", r"'\.\.'|not allowed"),
        ("a..b", r"'\.\.'"),
        (".hidden", "not allowed"),
        ("tab\there", "control"),
        ("zero\u200bwidth", "control or invisible"),
        ("caf\u00e9", "non-ASCII"),
        ("with space", "space"),
        ("CON", "reserved"),
        ("lpt1.ipynb", "reserved"),
        ("x" * 81, "characters long"),
        ("", "empty"),
        ("repo.git", "reserved"),
    ],
)
def test_bad_names_say_why(raw: str, reason: str) -> None:
    with pytest.raises(RuleError, match=reason):
        notebook_name(raw)


def test_name_from_title_is_a_safe_slug() -> None:
    assert name_from_title("Bandpass calibration: EG078B (v2)") == "bandpass-calibration-eg078b-v2"
    assert name_from_title("Ångström über") == "angstrom-uber"
    assert notebook_name(name_from_title("Con")) == "notebook-con"
    with pytest.raises(RuleError, match="give a 'name'"):
        name_from_title("★★★")


def test_usernames_must_be_path_safe() -> None:
    assert username_folder("demo") == "demo"
    for bad in ("../x", "Demo", "a/b", ""):
        with pytest.raises(RuleError):
            username_folder(bad)


def test_orcid_checksum_and_url_form() -> None:
    assert orcid_url("0000-0002-1825-0097") == "https://orcid.org/0000-0002-1825-0097"
    assert orcid_url("https://orcid.org/0000-0001-5109-3700") == (
        "https://orcid.org/0000-0001-5109-3700"
    )
    assert orcid_url("0000-0002-1694-233X").endswith("233X")
    with pytest.raises(RuleError, match="check digit"):
        orcid_url("0000-0002-1825-0098")
    with pytest.raises(RuleError, match="not an ORCID"):
        orcid_url("orcid:123")


def test_metadata_is_normalised() -> None:
    meta = parse_metadata(
        {
            "title": "  T  ",
            "authors": [{"name": "A", "orcid": "0000-0002-1825-0097"}],
            "license": "CC0-1.0",
        }
    )
    assert meta == {
        "title": "T",
        "description": "",
        "authors": [{"name": "A", "orcid": "https://orcid.org/0000-0002-1825-0097"}],
        "license": "CC0-1.0",
        "keywords": [],
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "metadata is required"),
        ({"authors": [{"name": "A"}], "license": "MIT"}, "title is required"),
        ({"title": "T", "authors": [], "license": "MIT"}, "non-empty list"),
        ({"title": "T", "authors": [{"name": "A"}], "license": "GPL"}, "SPDX"),
        ({"title": "T", "authors": [{"name": "A", "x": 1}], "license": "MIT"}, "unknown fields"),
        ({"title": "T\x07", "authors": [{"name": "A"}], "license": "MIT"}, "control"),
        ({"title": "T", "authors": [{"name": "A"}], "license": "MIT", "doi": 1}, "unknown"),
        ({"title": "T", "authors": [{"name": "A"}], "license": "MIT", "keywords": "a"}, "list"),
    ],
)
def test_bad_metadata_says_which_field(raw: object, reason: str) -> None:
    with pytest.raises(RuleError, match=reason):
        parse_metadata(raw)
