"""The contract's shared table of cases (``contract/cases.json``), as the extension and the command
line apply it before any network call: each refusal is the extension's 400 (exit 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_evn_submit import rules
from jupyterlab_evn_submit.errors import BadRequest

CASES = json.loads((Path(__file__).resolve().parents[2] / "contract" / "cases.json").read_text())
RULES = {
    "experiment_code": rules.experiment,
    "notebook_name": rules.notebook_name,
    "idempotency_key": rules.idempotency_key,
}
ROWS = [(rule, row) for rule in RULES for row in CASES[rule]]


@pytest.mark.parametrize(("rule", "row"), ROWS, ids=[f"{r}:{c['input']!r}" for r, c in ROWS])
def test_case(rule: str, row: dict[str, Any]) -> None:
    if "ok" in row:
        assert RULES[rule](row["input"]) == row["ok"]
    else:
        with pytest.raises(BadRequest, match=re.escape(row["error"])):
            RULES[rule](row["input"])


def test_orcids_are_checked_in_metadata() -> None:
    for row in CASES["orcid"]:
        meta = {"title": "t", "authors": [{"name": "A", "orcid": row["input"]}], "license": "MIT"}
        if "ok" in row:
            assert rules.metadata(meta)["authors"][0]["orcid"] == row["ok"]
        else:
            with pytest.raises(BadRequest, match=re.escape(row["error"])):
                rules.metadata(meta)


def test_the_command_line_trims_what_a_person_typed_and_the_rule_does_not() -> None:
    from jupyterlab_evn_submit.cli.app import build_parser

    args = build_parser().parse_args(["fetch", " eg078b\n", " demo ", "\tcalibration.ipynb "])
    assert (args.experiment, args.owner, args.name) == ("eg078b", "demo", "calibration.ipynb")
    assert rules.experiment(args.experiment) == "EG078B"
    args = build_parser().parse_args(["submit", "x.ipynb", "-e", " EG078B ", "--name", " n1 "])
    assert (args.experiment, args.name) == ("EG078B", "n1")
    args = build_parser().parse_args(["list", "--experiment", "eg078b "])
    assert args.experiment == "eg078b"
    for typed in (" EG078B", "EG078B\n"):
        with pytest.raises(BadRequest, match="not an EVN experiment code"):
            rules.experiment(typed)
