"""The catalogue's pure parts and its cache, without a TAP service: rows to an observation
(dates, release, targets, products), close codes, the time to live with a clock the test moves,
one query per question in flight, and what a failing catalogue answers (503, never the old
answer). The TAP boundary (``Catalogue._query``) is replaced by rows the test gives;
test_catalogue_tap.py and test_catalogue_stack.py ask a real TAP service."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from evn_notebook_service.catalogue import (
    Catalogue,
    CatalogueUnavailable,
    UnknownExperiment,
    iso,
    mjd,
    observation_from_rows,
    observation_query,
)
from evn_notebook_service.config import ServiceConfig
from evn_notebook_service.suggest import close_codes, edit_distance

UTC = timezone.utc
MJD_2020 = 58849.0  # 2020-01-01T00:00:00Z


def row(**over: Any) -> dict[str, Any]:
    base = {
        "obs_id": "EG078B",
        "target_name": "3C345",
        "s_ra": 250.745,
        "s_dec": 39.81,
        "t_min": MJD_2020,
        "t_max": MJD_2020 + 0.5,
        "obs_publisher_did": "ivo://evn.jive.eu/~?EG078B/1",
        "access_url": "https://archive.jive.eu/EG078B/1.fits",
    }
    base.update(over)
    return base


def test_mjd_is_days_since_1858_11_17() -> None:
    assert mjd(MJD_2020) == datetime(2020, 1, 1, tzinfo=UTC)
    assert iso(mjd(MJD_2020 + 0.25)) == "2020-01-01T06:00:00Z"


def test_public_a_year_after_the_last_observation() -> None:
    rows = [row(t_max=MJD_2020 + 1), row(t_min=MJD_2020 - 3, t_max=MJD_2020 + 10)]
    obs = observation_from_rows("EG078B", rows, embargo_days=365)
    assert obs is not None
    assert obs.start == datetime(2019, 12, 29, tzinfo=UTC)
    assert obs.end == datetime(2020, 1, 11, tzinfo=UTC)
    assert obs.public_from == obs.end + timedelta(days=365)
    assert not obs.public(obs.public_from - timedelta(seconds=1))
    assert obs.public(obs.public_from)


def test_the_catalogues_own_release_date_wins_the_latest_of_them() -> None:
    rows = [
        row(obs_release_date="2021-06-01T00:00:00"),
        row(obs_release_date="2022-02-03T04:05:06Z", obs_publisher_did="ivo://x/2"),
        row(obs_release_date=None, obs_publisher_did="ivo://x/3"),
    ]
    obs = observation_from_rows("EG078B", rows, embargo_days=365)
    assert obs is not None and obs.public_from == datetime(2022, 2, 3, 4, 5, 6, tzinfo=UTC)
    # without a release date in any row: the embargo
    plain = observation_from_rows("EG078B", [row(obs_release_date=None)], embargo_days=10)
    assert plain is not None and plain.public_from == plain.end + timedelta(days=10)


def test_targets_distinct_in_order_products_distinct() -> None:
    rows = [
        row(target_name="J1234+5678", s_ra=None, s_dec=None),
        row(target_name="3C345"),
        row(target_name="J1234+5678", s_ra=188.5, s_dec=56.9, access_url="https://a/2"),
        row(target_name="3C345", s_ra=1.0, s_dec=2.0),  # a second position: the first is kept
    ]
    obs = observation_from_rows("eg078b", rows, embargo_days=365)
    assert obs is not None and obs.experiment == "EG078B"
    assert [(t.name, t.ra, t.dec) for t in obs.targets] == [
        ("J1234+5678", 188.5, 56.9),
        ("3C345", 250.745, 39.81),
    ]
    assert [p.access_url for p in obs.products] == [
        "https://archive.jive.eu/EG078B/1.fits",
        "https://a/2",
    ]


def test_no_rows_is_unknown() -> None:
    assert observation_from_rows("EZ100Q", [], 365) is None


def test_as_json_is_the_observation_schema() -> None:
    from evn_notebook_service.contract import document
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    obs = observation_from_rows("EG078B", [row()], 365)
    assert obs is not None
    data = obs.as_json(datetime(2020, 6, 1, tzinfo=UTC))
    assert data["public"] is False and data["public_from"] == "2020-12-31T12:00:00Z"
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:oa", resource)
    Draft202012Validator(
        {"$ref": "urn:oa#/components/schemas/Observation"}, registry=registry
    ).validate(data)


def test_query_quotes_the_code_and_asks_both_spellings() -> None:
    adql = observation_query("EG078B", release_column=False)
    assert adql.endswith("WHERE obs_id IN ('EG078B', 'eg078b')")
    assert "obs_release_date" not in adql
    assert "obs_release_date" in observation_query("EG078B", release_column=True)
    assert "'A''B'" in observation_query("A'B", False)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("EG078B", "EG087B", 1), ("EG078B", "EG078", 1), ("EG078B", "EG078B", 0),
     ("EG078B", "GE078B", 1), ("EG078B", "EB087C", 3), ("", "AB", 2)],
)  # fmt: skip
def test_edit_distance_counts_a_swap_as_one(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


def test_close_codes_closest_first_never_far_never_itself() -> None:
    known = ["EG078B", "EG078C", "EZ100Q", "EG087A", "EB001A", "EG087B", "EG078", "EM119A"]
    assert close_codes("EG087B", known) == ["EG078B", "EG087A", "EG078"]
    assert close_codes("EG087B", known, n=1) == ["EG078B"]
    assert close_codes("XX999X", known) == []


class FakeTap:
    """The rows a TAP service would answer, and a log of the queries asked."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.asked: list[str] = []
        self.down = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, adql: str, maxrec: int | None = None) -> list[dict[str, Any]]:
        self.asked.append(adql)
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise CatalogueUnavailable("the EVN archive's catalogue cannot be reached")
        if "TAP_SCHEMA" in adql:
            return [{"column_name": "obs_id"}, {"column_name": "t_max"}]
        if "DISTINCT obs_id" in adql:
            return [{"obs_id": r["obs_id"]} for r in self.rows]
        return [r for r in self.rows if f"'{r['obs_id']}'" in adql]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def catalogue(tap: FakeTap, clock: Clock, **options: Any) -> Catalogue:
    config = ServiceConfig(tap_url="http://127.0.0.1:9/tap", catalogue_ttl_seconds=60, **options)
    cat = Catalogue(config, clock=clock)
    cat._query = tap  # type: ignore[method-assign]
    return cat


def observation_asks(tap: FakeTap) -> int:
    return sum("FROM ivoa.obscore WHERE" in q for q in tap.asked)


def test_answers_are_kept_for_the_ttl_then_asked_again() -> None:
    tap, clock = FakeTap([row(), row(obs_id="EG087A")]), Clock()
    cat = catalogue(tap, clock)

    async def run() -> None:
        assert (await cat.observation("EG078B")).experiment == "EG078B"  # type: ignore[union-attr]
        assert await cat.observation("EZ100Q") is None
        clock.now += 59
        await cat.observation("eg078b")
        await cat.observation("EZ100Q")
        assert observation_asks(tap) == 2, "both answers (also unknown) kept within the TTL"
        clock.now += 2
        tap.rows.append(row(obs_id="EZ100Q"))  # the catalogue learnt of it meanwhile
        assert await cat.observation("EZ100Q") is not None
        assert observation_asks(tap) == 3

    asyncio.run(run())


def test_an_expired_answer_is_not_used_when_the_catalogue_is_down() -> None:
    tap, clock = FakeTap([row()]), Clock()
    cat = catalogue(tap, clock)

    async def run() -> None:
        assert await cat.require("EG078B") is not None
        clock.now += 61
        tap.down = True
        with pytest.raises(CatalogueUnavailable) as e:
            await cat.require("EG078B")
        assert e.value.status == 503 and e.value.retry_after > 0
        tap.down = False
        assert await cat.require("EG078B") is not None, "a failure is not kept"

    asyncio.run(run())


def test_concurrent_callers_share_one_query() -> None:
    tap, clock = FakeTap([row()]), Clock()
    cat = catalogue(tap, clock)

    async def run() -> list[Any]:
        tap.gate = asyncio.Event()
        waiting = [asyncio.ensure_future(cat.observation("EG078B")) for _ in range(20)]
        await asyncio.sleep(0.01)
        tap.gate.set()
        return await asyncio.gather(*waiting)

    answers = asyncio.run(run())
    assert len({id(a) for a in answers}) == 1 and answers[0].experiment == "EG078B"
    assert observation_asks(tap) == 1


def test_unknown_code_is_404_with_close_codes() -> None:
    tap = FakeTap([row(), row(obs_id="EG087A"), row(obs_id="EM119A")])
    cat = catalogue(tap, Clock())
    with pytest.raises(UnknownExperiment) as e:
        asyncio.run(cat.require("EG087B"))
    assert e.value.status == 404 and e.value.suggestions == ["EG078B", "EG087A"]
    assert e.value.fields() == {"error": "UnknownExperiment", "suggestions": ["EG078B", "EG087A"]}
    assert "EG087B is not in the EVN archive's catalogue; did you mean EG078B, EG087A?" in (
        e.value.message
    )


def test_unknown_stays_404_when_only_the_hints_fail() -> None:
    tap = FakeTap([row()])
    cat = catalogue(tap, Clock())

    async def run() -> None:
        assert await cat.observation("EG087B") is None  # known unknown, cached
        tap.down = True
        with pytest.raises(UnknownExperiment) as e:
            await cat.require("EG087B")
        assert e.value.suggestions == []
        assert "did you mean" not in e.value.message

    asyncio.run(run())


def test_scope_and_no_catalogue_decide_nothing() -> None:
    tap = FakeTap([])
    cat = catalogue(tap, Clock(), catalogue_codes="E[A-Z][0-9]{3}[A-Z]?")
    assert cat.applies("EG078B") and not cat.applies("T1234ABCD") and not cat.applies("EG078BX")
    assert asyncio.run(cat.require("T1234ABCD")) is None
    assert tap.asked == []
    off = Catalogue(ServiceConfig(tap_url=""))
    assert not off.enabled and not off.applies("EG078B")
    assert asyncio.run(off.require("EG078B")) is None
