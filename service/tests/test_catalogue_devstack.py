"""devstack's catalogue, the real DaCHS (devstack/dachs.py): its TAP service answers the seeded
ObsCore rows, holds long-public and still-proprietary experiments (EG078B, the demo's, public),
DaCHS itself withholds proprietary products, pyvo (the service's client) reads it, and a second
``devstack up`` neither re-imports nor restarts it."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict

import pytest
import pyvo
import requests

from devstack import dachs, dachs_seed
from devstack.paths import REPO, STATE

pytestmark = pytest.mark.stack

ALL_ROWS = (
    "SELECT obs_id, target_name, s_ra, s_dec, t_min, t_max, access_url, obs_publisher_did"
    " FROM ivoa.obscore WHERE obs_collection = 'EVN'"
)


def mjd_now() -> float:
    return time.time() / 86400 + 40587


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture(scope="module")
def tap(stack: dict[str, str]) -> str:
    assert stack.get("EVN_TAP_URL"), "devstack env prints no EVN_TAP_URL (EVN_DEVSTACK_DACHS=0?)"
    return stack["EVN_TAP_URL"]


@pytest.fixture(scope="module")
def rows(tap: str) -> list[dict]:
    return dachs.tap_query(tap, ALL_ROWS)


def seed_for(tap: str) -> list[dict]:
    port = urllib.parse.urlsplit(tap).port
    assert port is not None
    return dachs.rows(today(), port)


def by_experiment(rows: list[dict]) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in rows:
        out[r["obs_id"]].append(r)
    return out


def test_the_tap_service_answers_the_seeded_rows(tap: str, rows: list[dict]) -> None:
    seed = {s["obs_publisher_did"]: s for s in seed_for(tap)}
    assert {r["obs_publisher_did"] for r in rows} == set(seed)
    for r in rows:
        s = seed[r["obs_publisher_did"]]
        assert (r["obs_id"], r["target_name"], r["access_url"]) == (
            s["obs_id"],
            s["target_name"],
            s["access_url"],
        )
        for key in ("s_ra", "s_dec", "t_min", "t_max"):
            assert float(r[key]) == pytest.approx(s[key], abs=1e-6), key


def test_public_and_proprietary_experiments_and_the_demo_one(rows: list[dict]) -> None:
    ends = {code: max(float(r["t_max"]) for r in rs) for code, rs in by_experiment(rows).items()}
    now = mjd_now()
    assert len(ends) == 40 + 5000  # the hand-made ones and the five generated series
    assert all(any(c.startswith(p) and c.endswith(x) for c in ends) for p, x in dachs_seed.SERIES)
    assert not [c for c in ends if c.startswith("EZ")]  # the checks' unknown codes
    assert sum(end < now - 400 for end in ends.values()) >= 10  # public for a while
    assert sum(end > now - 300 for end in ends.values()) >= 10  # proprietary (365 days)
    assert ends["EG078B"] < now - 3 * 365
    assert max(ends.values()) < now  # observed, not planned


def test_each_experiment_has_targets_positions_and_products(
    stack: dict[str, str], rows: list[dict]
) -> None:
    shape = re.compile(stack["EVN_CATALOGUE_CODES"])
    for code, rs in by_experiment(rows).items():
        assert shape.fullmatch(code), code
        assert 1 <= len({r["target_name"] for r in rs}) <= 3, code
        assert 1 <= len(rs) <= 3, code
        for r in rs:
            assert 0 <= float(r["s_ra"]) < 360 and -90 <= float(r["s_dec"]) <= 90
            assert r["obs_publisher_did"].startswith(f"ivo://evn.jive/archive?{code}/")
            assert float(r["t_min"]) < float(r["t_max"])
    assert {r["target_name"] for r in by_experiment(rows)["EG078B"]} == {"3C 345", "J1638+5720"}


def test_dachs_serves_public_products_and_withholds_proprietary_ones(tap: str) -> None:
    seed = seed_for(tap)
    public = next(s for s in seed if s["obs_id"] == "EG078B")
    proprietary = next(s for s in seed if s["embargo"])
    assert requests.get(public["access_url"], timeout=10).status_code == 200
    assert requests.get(proprietary["access_url"], timeout=10).status_code == 401


def test_pyvo_reads_an_experiment(tap: str) -> None:
    """pyvo: the notebook service's catalogue client."""
    found = pyvo.dal.TAPService(tap).search(
        "SELECT obs_id, target_name, s_ra, t_max FROM ivoa.obscore WHERE obs_id = 'EG078B'"
    )
    table = found.to_table()
    assert set(table["obs_id"]) == {"EG078B"}
    assert "3C 345" in set(table["target_name"])
    expected = next(s["s_ra"] for s in seed_for(tap) if s["target_name"] == "3C 345")
    assert float(table[list(table["target_name"]).index("3C 345")]["s_ra"]) == expected


def test_the_seed_moves_with_the_day_and_nothing_else() -> None:
    day = dt.date(2030, 6, 1)
    first, again, next_day = dachs.rows(day), dachs.rows(day), dachs.rows(day + dt.timedelta(1))
    assert first == again
    assert [r["obs_id"] for r in first] == [r["obs_id"] for r in next_day]
    shifts = [b["t_max"] - a["t_max"] for a, b in zip(first, next_day, strict=True)]
    assert shifts == pytest.approx([1.0] * len(first))
    assert dachs.SEED == dachs.rows(today(), dachs.port(json.loads(state_text())))


def state_text() -> str:
    return (STATE / "state.json").read_text()


def test_up_again_neither_reimports_nor_restarts_dachs(tap: str) -> None:
    stamp = dachs.INPUTS / "seed.sha256"
    before = (stamp.stat().st_mtime, json.loads(state_text())["procs"]["dachs"]["pid"])
    up = subprocess.run(
        [sys.executable, "-m", "devstack", "up"], cwd=REPO, capture_output=True, text=True
    )
    assert up.returncode == 0, up.stderr[-2000:]
    after = (stamp.stat().st_mtime, json.loads(state_text())["procs"]["dachs"]["pid"])
    assert after == before
    assert "DaCHS" not in up.stderr
