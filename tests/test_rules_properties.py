"""Properties of the name rules and of ``jsonsafe`` as the extension and the CLI apply them, and
the TypeScript twin (``src/rules.ts``) agreeing with them on generated input (Hypothesis).

``contract/cases.json`` holds the examples; here any input is tried: a rule refuses with the
extension's ``BadRequest`` (400, exit 4) or returns a canonical, safe value, and ``src/rules.ts``
accepts exactly what ``contract/rules.py`` accepts, returning the same value.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyterlab_evn_submit import contract, rules
from jupyterlab_evn_submit.contract import jsonsafe
from jupyterlab_evn_submit.errors import BadRequest

ROOT = Path(__file__).resolve().parents[1]
BOUNDED = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

TRICKY = (
    "\u00df\u017f\u212a\u0131\u0130\uff10\u00b2\u0660\u06f1\u200b\u202e\u00a0\u2028\ufeff"
    '\x00\t\n\r\x7f /\\:*?"<>|$.-_'
)
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
CODE_PATTERN = contract.schema("ExperimentCode")["pattern"]
TEXT = st.one_of(
    st.text(max_size=90),
    st.text(alphabet=st.sampled_from(ALNUM + TRICKY), max_size=90),
    st.from_regex(CODE_PATTERN, fullmatch=True).map(str.lower),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,84}", fullmatch=True),
    st.sampled_from(["con", "Con.txt", "LPT9.ipynb", "com0.x", "nul", "x.git", "y.LOCK"]),
    st.from_regex(CODE_PATTERN, fullmatch=True).map(lambda c: c + "\n"),
)
DEVICES = {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"} | {
    f"{kind}{d}" for kind in ("com", "lpt") for d in "0123456789"
}


@BOUNDED
@given(TEXT)
def test_the_extensions_code_rule_refuses_or_canonicalises(raw: str) -> None:
    try:
        code = rules.experiment(raw)
    except BadRequest as e:
        assert e.status == 400 and "not an EVN experiment code" in str(e.message)
        return
    assert code.isascii() and re.fullmatch(CODE_PATTERN, code)
    assert code == contract.ascii_upper(raw) == raw.upper()


@BOUNDED
@given(TEXT)
def test_the_extensions_name_rule_refuses_or_gives_a_safe_segment(raw: str) -> None:
    try:
        name = rules.notebook_name(raw)
    except BadRequest as e:
        assert e.status == 400
        return
    assert name.isascii() and name.isprintable() and ".." not in name
    assert not set(name) & set('/\\:*?"<>| ') and not name.endswith(".")
    assert name[0].isalnum() and len(name) <= 80
    assert name.lower().split(".")[0] not in DEVICES
    assert not name.lower().endswith((".git", ".lock"))
    assert raw == name or raw.lower() == name.lower() + ".ipynb"


@BOUNDED
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(
            alphabet=st.sampled_from('[]{}",:0123456789.-eEtrufalsnNI\\ud8DC '), max_size=99
        ).map(str.encode),
    )
)
def test_jsonsafe_refuses_or_returns_what_can_be_stored(body: bytes) -> None:
    try:
        value = jsonsafe.loads(body, what="the notebook")
    except contract.RuleError as e:
        assert e.message.startswith("the notebook ")
        return
    json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)


@BOUNDED
@given(JSON_VALUES)
def test_any_json_value_round_trips(value: Any) -> None:
    assert jsonsafe.loads(json.dumps(value)) == value
    assert jsonsafe.loads(json.dumps(value, ensure_ascii=False)) == value


HARNESS = """
const r = require(process.argv[1]);
let input = '';
process.stdin.on('data', d => (input += d));
process.stdin.on('end', () => {
  const apply = (rule, x) => {
    try { return [rule(x), null]; }
    catch (e) { if (!(e instanceof r.RuleError)) throw e; return [null, e.message]; }
  };
  const out = JSON.parse(input).map(x => [apply(r.experimentCode, x), apply(r.notebookName, x)]);
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def typescript_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``src/rules.ts`` compiled to CommonJS, for node."""
    tsc = ROOT / "node_modules" / ".bin" / "tsc"
    if not tsc.exists() or not shutil.which("node"):
        pytest.skip("node and node_modules (jlpm install) are needed to run src/rules.ts")
    out = tmp_path_factory.mktemp("rules-js")
    subprocess.run(
        [str(tsc), "--outDir", str(out), "--module", "commonjs", "--target", "es2020",
         "--skipLibCheck", "--types", "node", str(ROOT / "src" / "rules.ts")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return out / "rules.js"


def python_answer(rule: Any, raw: str) -> list[str | None]:
    try:
        return [rule(raw), None]
    except contract.RuleError as e:
        return [None, e.message]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(TEXT, st.text(alphabet=st.characters(), max_size=20)), max_size=200))
def test_typescript_accepts_exactly_what_python_accepts(
    typescript_rules: Path, inputs: list[str]
) -> None:
    ran = subprocess.run(
        ["node", "-e", HARNESS, str(typescript_rules)],
        input=json.dumps(inputs),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for raw, (code, name) in zip(inputs, json.loads(ran.stdout), strict=True):
        assert code[0] == python_answer(contract.experiment_code, raw)[0], (raw, code)
        assert name[0] == python_answer(contract.notebook_name, raw)[0], (raw, name)
        for ts, py in ((code, contract.experiment_code), (name, contract.notebook_name)):
            if ts[1] is not None:  # both refuse: for the same reason, said the same way
                assert _reason(ts[1]) == _reason(python_answer(py, raw)[1]), raw


def _reason(message: str | None) -> str:
    """A refusal without the quoted input (Python's repr and TypeScript's quotes differ); a
    non-ASCII character named by code point only (the two sides' Unicode databases may be of
    different versions, so one may call "control" what the other calls "non-ASCII")."""
    text = message or ""
    for marker in (" is not an EVN experiment code", " is not allowed", " is a reserved name"):
        if marker in text:
            text = marker + text.split(marker, 1)[1]
    text = re.sub(r"the character \S+", "the character", text)
    return re.sub(
        r"(a control or invisible character|the non-ASCII character .+?) \((U\+[0-9A-F]+)\)",
        lambda m: m[0] if int(m[2][2:], 16) < 128 else f"a non-ASCII character ({m[2]})",
        text,
    )
