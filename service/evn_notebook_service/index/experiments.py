"""What the archive's catalogue says of each experiment: targets for search, and the embargo.

``experiments`` holds one row per experiment the catalogue knows and the archive has notebooks
of: the observation as the summaries show it, ``public_from`` and ``released`` (its repository
has been made public). ``experiment_targets`` holds its targets with their unit vectors, so the
cone test is arithmetic only and the same SQL on SQLite and PostgreSQL (docs/catalogue.md).

While ``public_from`` is in the future and the experiment is not released, its notebooks are
left out of every read but their submitter's (``visible``).
"""

from __future__ import annotations

import json
import math
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Select, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from .schema import experiment_targets, experiments, notebooks

ex = experiments.c
tg = experiment_targets.c
nb = notebooks.c
NAME_MAX = 256
PUT_ATTEMPTS = 3  # two replicas writing the same new experiment: the loser tries again


def iso(moment: float | datetime) -> str:
    """Seconds since the epoch or an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` (sorts as text)."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Viewer:
    """Who reads, and when: an embargoed notebook is shown to its submitter (``sub``) only."""

    now: str  # YYYY-MM-DDTHH:MM:SSZ
    sub: str | None = None

    @classmethod
    def at(cls, moment: float | datetime | None = None, sub: str | None = None) -> Viewer:
        return cls(iso(time.time() if moment is None else moment), sub)


def name_key(name: str) -> str:
    """A target name as it is matched: lower case, without spaces."""
    return "".join(name.lower().split())[:NAME_MAX]


def unit_vector(ra: float, dec: float) -> tuple[float, float, float]:
    """The unit vector of a position (degrees)."""
    a, d = math.radians(ra), math.radians(dec)
    return (math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d))


def embargoed(now: str) -> Select[tuple[str]]:
    """The experiments whose notebooks are hidden at ``now``."""
    return select(ex.experiment).where(ex.public_from > now, ex.released.is_(False))


def visible(conn: Connection, viewer: Viewer | None) -> list[ColumnElement[bool]]:
    """The condition on notebooks that ``viewer`` may see (not embargoed, or submitted by them);
    none while nothing is embargoed, so a plain search stays as fast as before. ``viewer`` None:
    the service itself (the indexer reusing what it indexed), which sees everything; the reader
    always names one."""
    if viewer is None:
        return []
    hidden = sorted(str(c) for c in conn.execute(embargoed(viewer.now)).scalars())
    if not hidden:
        return []
    shown = nb.experiment.not_in(hidden)
    return [shown if viewer.sub is None else or_(shown, nb.owner_sub == viewer.sub)]


def target_filter(text: str) -> ColumnElement[bool]:
    """Notebooks of an experiment with a target whose name contains ``text`` (case, spaces
    ignored)."""
    named = select(tg.experiment).where(tg.name_key.contains(name_key(text), autoescape=True))
    return nb.experiment.in_(named)


def cone_filter(ra: float, dec: float, radius: float) -> ColumnElement[bool]:
    """Notebooks of an experiment with a target within ``radius`` degrees of (ra, dec)."""
    x0, y0, z0 = unit_vector(ra, dec)
    within = tg.x * x0 + tg.y * y0 + tg.z * z0 >= math.cos(math.radians(radius))
    return nb.experiment.in_(select(tg.experiment).where(within))


def _annotate(conn: Connection, items: list[dict[str, Any]], now: str) -> None:
    """Give each notebook item its ``observation`` (or None) and ``public_from`` (the date its
    embargo ends, None when it is public)."""
    codes = {str(i["experiment"]) for i in items}
    found = {}
    if codes:
        rows = conn.execute(
            select(ex.experiment, ex.observation, ex.public_from, ex.released).where(
                ex.experiment.in_(sorted(codes))
            )
        )
        found = {r.experiment: r for r in rows}
    for item in items:
        row = found.get(item["experiment"])
        item["observation"] = None if row is None else json.loads(row.observation)
        if row is None or row.released or (row.public_from or "") <= now:
            item["public_from"] = None
        else:
            item["public_from"] = row.public_from


def _target_rows(experiment: str, observation: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for position, target in enumerate(observation.get("targets") or []):
        name = str(target.get("name") or "")[:NAME_MAX]
        ra, dec = _degrees(target.get("ra")), _degrees(target.get("dec"))
        if ra is None or dec is None or abs(dec) > 90:
            ra = dec = None
        x, y, z = (None, None, None) if ra is None or dec is None else unit_vector(ra, dec)
        rows.append({
            "experiment": experiment, "position": position, "name": name,
            "name_key": name_key(name), "ra": ra, "dec": dec, "x": x, "y": y, "z": z,
        })  # fmt: skip
    return rows


def _degrees(value: Any) -> float | None:
    """A finite number, or None (no position: the target matches by name only)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


class ExperimentStore:
    """The experiments' part of ``Index`` (it provides ``_read`` and ``_write``)."""

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def put_experiment(
        self,
        experiment: str,
        observation: dict[str, Any],
        public_from: str | None,
        *,
        released: bool | None = None,
    ) -> None:
        """What the catalogue says of ``experiment`` (``observation`` as the summaries show it,
        ``public_from`` ISO UTC or None = public). ``released`` None keeps what is recorded (a
        new row: not released)."""
        code = experiment.upper()
        values = {
            "observation": json.dumps(observation, ensure_ascii=False),
            "public_from": None if public_from is None else iso(_moment(public_from)),
        }
        targets = _target_rows(code, observation)
        for attempt in range(PUT_ATTEMPTS):
            try:
                with self._write() as conn:
                    self._upsert(conn, code, values, released)
                    conn.execute(delete(experiment_targets).where(tg.experiment == code))
                    if targets:
                        conn.execute(insert(experiment_targets), targets)
                return
            except IntegrityError:  # another replica inserted it meanwhile
                if attempt == PUT_ATTEMPTS - 1:
                    raise

    @staticmethod
    def _upsert(conn: Connection, code: str, values: dict[str, Any], released: bool | None) -> None:
        changes = values if released is None else {**values, "released": released}
        done = conn.execute(update(experiments).where(ex.experiment == code).values(changes))
        if done.rowcount == 0:
            row = {"experiment": code, "released": bool(released), **values}
            conn.execute(insert(experiments).values(row))

    def annotate(self, items: list[dict[str, Any]], viewer: Viewer | None = None) -> None:
        """Give each notebook item (of a page, or a notebook) its ``observation`` (or None) and
        ``public_from`` (the end of its embargo, None when it is public)."""
        if items:
            with self._read() as conn:
                _annotate(conn, items, (viewer or Viewer.at()).now)

    def due_experiments(self, now: str) -> list[str]:
        """Experiments whose embargo has ended at ``now`` but whose repository is not public."""
        with self._read() as conn:
            rows = conn.execute(
                select(ex.experiment)
                .where(ex.public_from <= now, ex.released.is_(False))
                .order_by(ex.experiment)
            )
            return [str(r.experiment) for r in rows]

    def mark_released(self, experiment: str) -> None:
        with self._write() as conn:
            conn.execute(
                update(experiments).where(ex.experiment == experiment.upper()).values(released=True)
            )

    def experiment_states(self) -> dict[str, tuple[str | None, bool]]:
        """Every recorded experiment → (public_from, released)."""
        with self._read() as conn:
            rows = conn.execute(select(ex.experiment, ex.public_from, ex.released))
            return {str(r.experiment): (r.public_from, bool(r.released)) for r in rows}

    def targets_of(self, experiment: str) -> list[dict[str, Any]]:
        """The recorded targets of ``experiment``, in the catalogue's order."""
        with self._read() as conn:
            rows = conn.execute(
                select(tg.name, tg.name_key, tg.ra, tg.dec, tg.x, tg.y, tg.z)
                .where(tg.experiment == experiment.upper())
                .order_by(tg.position)
            ).all()
        return [dict(r._mapping) for r in rows]


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
