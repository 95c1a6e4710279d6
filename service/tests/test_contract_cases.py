"""The contract's shared table of cases (``contract/cases.json``), as the service applies it.

The extension's tests and the frontend's run the same table, so the three cannot drift.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from evn_notebook_service import contract

CASES = json.loads((Path(__file__).resolve().parents[2] / "contract" / "cases.json").read_text())
RULES = {
    "experiment_code": contract.experiment_code,
    "notebook_name": contract.notebook_name,
    "idempotency_key": contract.idempotency_key,
    "orcid": contract.orcid_url,
}
ROWS = [(rule, row) for rule in RULES for row in CASES[rule]]


@pytest.mark.parametrize(("rule", "row"), ROWS, ids=[f"{r}:{c['input']!r}" for r, c in ROWS])
def test_case(rule: str, row: dict[str, Any]) -> None:
    if "ok" in row:
        assert RULES[rule](row["input"]) == row["ok"]
    else:
        with pytest.raises(contract.RuleError, match=re.escape(row["error"])):
            RULES[rule](row["input"])


def test_every_rule_of_the_table_is_run() -> None:
    assert set(CASES) - {"description"} == set(RULES)
