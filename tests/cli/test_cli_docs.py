"""docs/cli.md cannot drift from the command line: every verb, option and exit code is in it.
Also the pieces of the command line that need no stack (argument parsing, the error mapping)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from jupyterlab_evn_submit.cli.app import build_parser, main
from jupyterlab_evn_submit.cli.exitcodes import (
    CONFIGURATION,
    EXIT_CODES,
    INVALID,
    NOT_LOGGED_IN,
    REJECTED,
    UNAVAILABLE,
    outcome,
)
from jupyterlab_evn_submit.cli.submit import parse_author
from jupyterlab_evn_submit.errors import (
    BadRequest,
    IdentityProviderError,
    IdentityProviderUnavailable,
    InvalidNotebook,
    NotebookTooLarge,
    ServiceError,
    ServiceTimeout,
    SessionEnded,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()


def _verbs() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_verb_and_option_is_documented():
    verbs = _verbs()
    assert set(verbs) == {"login", "status", "submit", "list", "fetch", "logout"}
    for verb, sub in verbs.items():
        assert re.search(rf"^### `{verb}\b", DOC, re.M), f"docs/cli.md lacks a section on {verb}"
        for action in sub._actions:
            for flag in action.option_strings:
                if flag in ("-h", "--help"):
                    continue
                assert f"`{flag}" in DOC or f"{flag} " in DOC, f"{verb} {flag} is not documented"


def test_every_exit_code_is_documented():
    rows = dict(re.findall(r"^\| (\d+) \| ([a-z-]+) \|", DOC, re.M))
    assert {int(k): v for k, v in rows.items()} == {k: v[0] for k, v in EXIT_CODES.items()}


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (SessionEnded(), NOT_LOGGED_IN),
        (InvalidNotebook(), INVALID),
        (NotebookTooLarge(10, 5), INVALID),
        (BadRequest("bad license"), INVALID),
        (IdentityProviderUnavailable(), UNAVAILABLE),
        (ServiceTimeout(), UNAVAILABLE),
        (ServiceError(503, "down"), UNAVAILABLE),
        (ServiceError(429, "slow down"), UNAVAILABLE),
        (ServiceError(401, None), NOT_LOGGED_IN),
        (ServiceError(403, "belongs to someone else"), REJECTED),
        (ServiceError(409, "key used"), REJECTED),
        (IdentityProviderError("unauthorized_client"), CONFIGURATION),
    ],
)
def test_errors_map_to_exit_codes(error, code):
    assert outcome(error).code == code
    assert outcome(error).message


def test_authors_are_parsed():
    assert parse_author("Jane Doe") == {"name": "Jane Doe"}
    assert parse_author("Jane Doe;;JIVE") == {"name": "Jane Doe", "affiliation": "JIVE"}
    assert parse_author(" Jane ; 0000-0002-1825-0097 ") == {
        "name": "Jane",
        "orcid": "0000-0002-1825-0097",
    }
    for bad in (";0000-0002-1825-0097", "a;b;c;d"):
        with pytest.raises(BadRequest):
            parse_author(bad)


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["submit", "--experiment", "EG078B"])
    assert e.value.code == 2
    assert "NOTEBOOK" in capsys.readouterr().err
