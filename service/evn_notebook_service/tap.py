"""Queries of the archive's TAP service through pyvo, the VO's client library: blocking (pyvo
uses requests), so they run in a worker thread; every failure is ``CatalogueUnavailable``.

pyvo (and astropy under it) is imported at the first query, not at start: it takes seconds, and
a service without a catalogue never needs it.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import CatalogueUnavailable
from .logs import log

Row = dict[str, Any]


def load() -> None:
    """Import pyvo and what it needs (blocking, seconds: call it in a worker thread)."""
    import numpy  # noqa: F401
    import pyvo  # noqa: F401
    import requests  # noqa: F401


def run_query(url: str, adql: str, timeout: float, maxrec: int | None = None) -> list[Row]:
    """The rows of ``adql`` at the TAP service ``url``, as plain Python values (None for NULL).

    Blocking: call it in a worker thread. ``timeout``: seconds for connecting and for each read.
    """
    import pyvo  # slow (astropy): only where a catalogue is configured, in a worker thread

    session = _session(timeout)
    try:
        result = pyvo.dal.TAPService(url, session=session).run_sync(adql, maxrec=maxrec)
        table = result.to_table()
        names = list(table.colnames)
        return [{name: plain(row[name]) for name in names} for row in table]
    except Exception as e:  # connection refused, timeout, HTTP 5xx, a TAP error document …
        log.warning(
            "the catalogue did not answer: %s", repr(e)[:300],
            extra={"fields": {"tap_url": url, "query": adql[:200]}},
        )  # fmt: skip
        raise CatalogueUnavailable(
            "the EVN archive's catalogue cannot be reached, so the experiment code cannot be "
            "checked; try again later"
        ) from e
    finally:
        session.close()


def _session(timeout: float) -> Any:
    """A requests session (pyvo's User-Agent) whose every request ends after ``timeout``."""
    import requests
    from pyvo.utils import http

    class TimedSession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout)
            return super().request(*args, **kwargs)

    session = TimedSession()
    session.headers["User-Agent"] = http.USER_AGENT
    return session


def plain(value: Any) -> Any:
    """A table cell as a plain Python value: None for a masked cell or NaN, str for bytes."""
    import numpy

    if value is None or value is numpy.ma.masked:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, numpy.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
