"""Abuse limits: how many submissions and new experiment repositories one researcher may make.

Sliding windows per researcher (the token's ``sub``), counted in this process only, on a
monotonic clock. A submission *reserves* its place before anything is written to Gitea and gives
it back when it fails or turns out to be a replay, so requests running at the same time cannot
pass a limit together: with a limit of k, at most k of N parallel submissions get through.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from .config import ServiceConfig
from .errors import TooManyRequests

Clock = Callable[[], float]

SWEEP_FLOOR = 1024  # researchers tracked before the first sweep of idle ones


def _duration(seconds: float) -> str:
    """``86400`` → "1 day", ``7200`` → "2 hours", ``90`` → "90 seconds": a window in words."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''}"
    return f"{seconds:g} seconds"


class Limit:
    """At most ``count`` events per ``window`` seconds for each researcher (``count`` 0: off)."""

    def __init__(self, setting: str, what: str, count: int, window: float, clock: Clock) -> None:
        self.setting = setting  # the configuration name, for the message
        self.what = what  # "submissions", "new experiment repositories"
        self.count = count
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._sweep_at = SWEEP_FLOOR

    @property
    def active(self) -> bool:
        return self.count > 0 and self.window > 0

    def _recent(self, sub: str, now: float) -> deque[float] | None:
        """``sub``'s events still inside the window (older ones dropped)."""
        events = self._events.get(sub)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[sub]
            return None
        return events

    def wait(self, sub: str, now: float) -> int | None:
        """None when one more event fits; else whole seconds until the oldest leaves (≥ 1)."""
        if not self.active:
            return None
        events = self._recent(sub, now)
        if events is None or len(events) < self.count:
            return None
        return max(1, math.ceil(events[0] + self.window - now))

    def add(self, sub: str, now: float) -> None:
        if not self.active:
            return
        self._events.setdefault(sub, deque()).append(now)
        if len(self._events) >= self._sweep_at:
            self._sweep(now)

    def remove(self, sub: str, stamp: float) -> None:
        """Give back one event recorded at ``stamp`` (a reservation that was not used)."""
        events = self._events.get(sub)
        if events is not None and stamp in events:
            events.remove(stamp)
            if not events:
                del self._events[sub]

    def _sweep(self, now: float) -> None:
        """Forget researchers with no event left in the window (memory stays bounded)."""
        for sub in list(self._events):
            self._recent(sub, now)
        self._sweep_at = max(SWEEP_FLOOR, 2 * len(self._events))

    def tracked(self) -> int:
        return len(self._events)

    def refusal(self, retry_after: int) -> TooManyRequests:
        return TooManyRequests(
            f"you have reached this archive's limit of {self.count} {self.what} per "
            f"{_duration(self.window)} ({self.setting}); nothing was written. Try again in "
            f"{retry_after} s, or ask the archive operator if you need more",
            retry_after=retry_after,
        )


class Quotas:
    """The service's two limits; ``clock`` is injectable for tests."""

    def __init__(self, config: ServiceConfig, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.repositories = Limit(
            "max_new_repositories",
            "new experiment repositories",
            config.max_new_repositories,
            config.new_repository_window_seconds,
            clock,
        )
        self.submissions = Limit(
            "max_submissions",
            "submissions",
            config.max_submissions,
            config.submission_window_seconds,
            clock,
        )

    def ticket(self, sub: str) -> Ticket:
        return Ticket(self, sub)


class Ticket:
    """One request's reservations: taken before a write, given back unless it was used."""

    def __init__(self, quotas: Quotas, sub: str) -> None:
        self.quotas = quotas
        self.sub = sub
        self.held: dict[str, tuple[Limit, float]] = {}

    def reserve(self, *, repository: bool = False) -> None:
        """Take a submission (and with ``repository`` a new repository) or raise 429.

        Both are checked before either is taken, and nothing awaits in between, so requests
        running at the same time see each other's reservations.
        """
        wanted = {"submission": self.quotas.submissions}
        if repository:
            wanted["repository"] = self.quotas.repositories
        wanted = {k: v for k, v in wanted.items() if k not in self.held}
        now = self.quotas.clock()
        waits = [(wait, limit) for limit in wanted.values() if (wait := limit.wait(self.sub, now))]
        if waits:
            wait, limit = max(waits, key=lambda w: w[0])
            raise limit.refusal(wait)
        for key, limit in wanted.items():
            limit.add(self.sub, now)
            self.held[key] = (limit, now)

    def release(self, key: str) -> None:
        """Give back the ``key`` reservation ("submission" or "repository"), if held."""
        held = self.held.pop(key, None)
        if held is not None:
            held[0].remove(self.sub, held[1])
