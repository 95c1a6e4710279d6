"""The documentation names every environment variable that the code reads or devstack prints."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VAR = re.compile(r"\bEVN_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


def _vars_in(paths) -> set[str]:
    found: set[str] = set()
    for p in paths:
        found |= set(VAR.findall(p.read_text(encoding="utf-8")))
    return found


def _docs() -> str:
    files = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_every_variable_the_package_reads_is_documented():
    names = _vars_in((REPO / "jupyterlab_evn_submit").rglob("*.py"))
    assert names, "the package reads no EVN_ variable: the scan is broken"
    missing = sorted(n for n in names if n not in _docs())
    assert not missing, f"not in README.md or docs/: {missing}"


def test_every_variable_devstack_prints_is_documented():
    names = _vars_in(
        [
            REPO / "devstack" / "keycloak.py",
            REPO / "devstack" / "gitea.py",
            REPO / "devstack" / "service.py",
        ]
    )
    assert {"EVN_ISSUER_URL", "EVN_GITEA_TOKEN", "EVN_SERVICE_URL"} <= names
    missing = sorted(n for n in names if n not in _docs())
    assert not missing, f"not in README.md or docs/: {missing}"
