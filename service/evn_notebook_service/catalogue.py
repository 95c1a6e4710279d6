"""The EVN archive's catalogue: what it knows of an experiment (docs/catalogue.md).

The archive's Virtual Observatory service (DaCHS) publishes an ObsCore table, ``ivoa.obscore``,
one row per data product with ``obs_id`` the experiment code. ``Catalogue`` asks it through TAP
(``tap.py``) whether a code exists, what it observed, when, and when its data become public, and
keeps each answer (also "unknown") for ``catalogue_ttl_seconds``. A catalogue that cannot answer
is a 503, never the old answer nor a guess.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from .config import ServiceConfig
from .errors import CatalogueUnavailable, UnknownExperiment
from .index.experiments import iso  # one spelling of times: the API's and the index's
from .logs import log
from .suggest import close_codes

__all__ = [
    "Catalogue",
    "CatalogueUnavailable",
    "Observation",
    "Product",
    "Target",
    "UnknownExperiment",
    "close_codes",
    "iso",
    "observation_from_rows",
]

MJD_ZERO = datetime(1858, 11, 17, tzinfo=timezone.utc)
NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)  # no date at all: never public by itself
MAX_QUERIES = 4  # TAP queries in flight at once (each holds a worker thread)
MAX_CACHED = 20_000  # answers kept; the oldest goes first
MAX_CODES = 1_000_000  # rows asked for the list of known codes (the server may cap it)
RELEASE_COLUMN = "obs_release_date"
COLUMNS = "obs_id, target_name, s_ra, s_dec, t_min, t_max, obs_publisher_did, access_url"

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    name: str
    ra: float | None  # degrees, ICRS
    dec: float | None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "ra": self.ra, "dec": self.dec}


@dataclass(frozen=True)
class Product:
    did: str  # the publisher's DID (obs_publisher_did), ivo://…
    access_url: str

    def as_json(self) -> dict[str, str]:
        return {"did": self.did, "access_url": self.access_url}


@dataclass(frozen=True)
class Observation:
    experiment: str  # upper case
    targets: tuple[Target, ...]  # distinct by name, in the catalogue's order
    start: datetime  # UTC
    end: datetime
    public_from: datetime  # UTC: end + embargo_days, or the catalogue's own release date
    products: tuple[Product, ...]

    def public(self, now: datetime) -> bool:
        return now >= self.public_from

    def as_json(self, now: datetime) -> dict[str, Any]:
        """The ``Observation`` schema of contract/openapi.json."""
        return {
            "experiment": self.experiment,
            "catalogued": True,
            "targets": [t.as_json() for t in self.targets],
            "start": iso(self.start),
            "end": iso(self.end),
            "public": self.public(now),
            "public_from": iso(self.public_from),
            "products": [p.as_json() for p in self.products],
        }


def mjd(day: float) -> datetime:
    """A Modified Julian Date (ObsCore's ``t_min``/``t_max``) as a UTC time."""
    return MJD_ZERO + timedelta(days=day)


def _timestamp(value: Any) -> datetime | None:
    """``obs_release_date`` as the table gives it: an ISO string, a datetime or astropy Time."""
    if value is None or value == "":
        return None
    if hasattr(value, "to_datetime"):  # astropy Time
        value = value.to_datetime(timezone=timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _targets(rows: list[dict[str, Any]]) -> tuple[Target, ...]:
    """Distinct by name in the rows' order; a position from the first row of a name that has one."""
    found: dict[str, Target] = {}
    for row in rows:
        name = str(row.get("target_name") or "").strip()
        if not name:
            continue
        ra, dec = row.get("s_ra"), row.get("s_dec")
        known = found.get(name)
        if ra is not None and dec is not None:
            if known is None or known.ra is None:
                found[name] = Target(name, float(ra), float(dec))
        elif known is None:
            found[name] = Target(name, None, None)
    return tuple(found.values())


def _products(rows: list[dict[str, Any]]) -> tuple[Product, ...]:
    seen: dict[tuple[str, str], Product] = {}
    for row in rows:
        did = str(row.get("obs_publisher_did") or "").strip()
        url = str(row.get("access_url") or "").strip()
        if did or url:
            seen.setdefault((did, url), Product(did, url))
    return tuple(seen.values())


def observation_from_rows(
    code: str, rows: list[dict[str, Any]], embargo_days: int
) -> Observation | None:
    """The experiment of the ObsCore ``rows`` (all of one ``obs_id``); None when there are none.

    Its data are public ``embargo_days`` after the last observation (``max(t_max)``), unless the
    rows carry ``obs_release_date``: then at the latest of those (all its data are public).
    """
    if not rows:
        return None
    starts = [float(r["t_min"]) for r in rows if r.get("t_min") is not None]
    ends = [float(r["t_max"]) for r in rows if r.get("t_max") is not None]
    times = starts + ends
    start = mjd(min(starts or times)) if times else NEVER
    end = mjd(max(ends or times)) if times else NEVER
    releases = [d for d in (_timestamp(r.get(RELEASE_COLUMN)) for r in rows) if d is not None]
    if releases:
        public_from = max(releases)
    elif times:
        public_from = end + timedelta(days=embargo_days)
    else:
        public_from = NEVER
    spelled = str(rows[0].get("obs_id") or code).strip().upper()
    return Observation(spelled, _targets(rows), start, end, public_from, _products(rows))


def _literal(text: str) -> str:
    """An ADQL string literal (the code has passed the experiment pattern already)."""
    return "'" + text.replace("'", "''") + "'"


def observation_query(code: str, release_column: bool) -> str:
    spellings = sorted({code.upper(), code.lower()})
    columns = COLUMNS + (f", {RELEASE_COLUMN}" if release_column else "")
    where = f"obs_id IN ({', '.join(map(_literal, spellings))})"
    return f"SELECT {columns} FROM ivoa.obscore WHERE {where}"  # noqa: S608 (ADQL, literals quoted)


class Catalogue:
    """The archive's catalogue, cached; at most one query per question in flight.

    ``clock`` gives the time (seconds) the cache's time to live is measured with.
    """

    def __init__(self, config: ServiceConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.enabled = bool(config.tap_url)
        self._scope = re.compile(config.catalogue_codes)
        self._answers: dict[str, tuple[float, Observation | None]] = {}
        self._codes: tuple[float, tuple[str, ...]] | None = None
        self._release_column: bool | None = None  # whether the table has obs_release_date
        self._flights: dict[str, asyncio.Future[Any]] = {}
        self._slots = asyncio.Semaphore(MAX_QUERIES)
        self._loaded = False  # pyvo imported

    async def prepare(self) -> None:
        """Import pyvo (seconds: astropy) in a worker thread, so that no query's time limit is
        spent on it; ``make_app`` starts it when a catalogue is configured."""
        if self.enabled and not self._loaded:
            from .tap import load

            try:
                await self._once("load", lambda: asyncio.to_thread(load))
            except ImportError as e:
                log.error("the catalogue's client cannot be loaded: %s", e)
                raise CatalogueUnavailable(
                    "the service cannot load its client of the EVN archive's catalogue (pyvo); "
                    "tell the archive's operator"
                ) from e
            self._loaded = True

    async def warm(self) -> None:
        """``prepare`` at start, a failure logged (the first query then answers 503)."""
        try:
            await self.prepare()
        except CatalogueUnavailable:
            pass

    def applies(self, code: str) -> bool:
        """Whether ``code`` is the catalogue's to decide (enabled and ``catalogue_codes``)."""
        return self.enabled and self._scope.fullmatch(code) is not None

    async def observation(self, code: str) -> Observation | None:
        """The experiment as the catalogue knows it; None when it does not (503 when it cannot
        answer). A cached answer is used within its time to live only."""
        code = code.upper()
        hit = self._answers.get(code)
        if hit is not None and hit[0] > self.clock():
            return hit[1]
        return await self._once("observation:" + code, lambda: self._ask(code))

    async def suggestions(self, code: str, n: int = 3) -> list[str]:
        """Up to ``n`` codes the catalogue knows that are close to ``code``."""
        known = self._codes
        if known is None or known[0] <= self.clock():
            await self._once("codes", self._ask_codes)
            known = self._codes
        assert known is not None
        # off the loop: edit distances to every known code, ~50 ms for the archive's 5,000
        return await asyncio.to_thread(close_codes, code.upper(), known[1], n)

    async def require(self, code: str) -> Observation | None:
        """None when the catalogue does not decide ``code``; its observation when it knows it;
        ``UnknownExperiment`` (404, with suggestions) when it does not; 503 when it cannot say."""
        if not self.applies(code):
            return None
        found = await self.observation(code)
        if found is not None:
            return found
        try:
            close = await self.suggestions(code)
        except CatalogueUnavailable:
            close = []  # the answer stands: unknown; only the hints are missing
        raise UnknownExperiment(code.upper(), close)

    async def _ask(self, code: str) -> Observation | None:
        if self._release_column is None:
            self._release_column = await self._has_release_column()
        rows = await self._query(observation_query(code, self._release_column))
        mine = [r for r in rows if str(r.get("obs_id") or "").upper() == code]
        found = observation_from_rows(code, mine, self.config.embargo_days)
        self._keep(code, found)
        return found

    async def _has_release_column(self) -> bool:
        rows = await self._query(
            "SELECT column_name FROM TAP_SCHEMA.columns WHERE table_name = 'ivoa.obscore'"
        )
        columns = {str(r.get("column_name") or "").lower() for r in rows}
        return RELEASE_COLUMN in columns

    async def _ask_codes(self) -> None:
        rows = await self._query("SELECT DISTINCT obs_id FROM ivoa.obscore", maxrec=MAX_CODES)
        codes = {str(r.get("obs_id") or "").strip().upper() for r in rows}
        codes.discard("")
        self._codes = (self.clock() + self.config.catalogue_ttl_seconds, tuple(sorted(codes)))

    def _keep(self, code: str, found: Observation | None) -> None:
        self._answers.pop(code, None)
        while len(self._answers) >= MAX_CACHED:
            self._answers.pop(next(iter(self._answers)))
        self._answers[code] = (self.clock() + self.config.catalogue_ttl_seconds, found)

    async def _query(self, adql: str, maxrec: int | None = None) -> list[dict[str, Any]]:
        """One TAP query in a worker thread, at most ``MAX_QUERIES`` at once, each within
        ``catalogue_timeout_seconds`` (also while it waits for its turn)."""
        from .tap import run_query

        if not self.enabled:
            raise RuntimeError("no catalogue is configured (tap_url)")
        await self.prepare()
        timeout = self.config.catalogue_timeout_seconds

        async def turn() -> list[dict[str, Any]]:
            async with self._slots:
                return await asyncio.to_thread(
                    run_query, self.config.tap_url, adql, timeout, maxrec
                )

        try:
            return await asyncio.wait_for(turn(), timeout)
        except asyncio.TimeoutError as e:
            log.warning("the catalogue took longer than %ss", timeout)
            raise CatalogueUnavailable(
                f"the EVN archive's catalogue did not answer within {timeout:g} s, so the "
                "experiment code cannot be checked; try again later"
            ) from e

    async def _once(self, key: str, ask: Callable[[], Awaitable[T]]) -> T:
        """``ask()``, shared by every caller asking ``key`` while it runs (a caller that goes
        away does not cancel it for the others)."""
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(ask())
            self._flights[key] = flight
            flight.add_done_callback(lambda f: self._landed(key, f))
        return await asyncio.shield(flight)

    def _landed(self, key: str, flight: asyncio.Future[Any]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: no "never retrieved" warning when nobody waited
