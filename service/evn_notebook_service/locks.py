"""In-process serialisation of writes, one lock per repository (dropped when nobody waits).

Waiters are served first come, first served (``asyncio.Lock`` wakes its waiters in order) and
wait at most until their deadline: past it they get ``Busy`` (503 with ``Retry-After``), having
written nothing. The archive holds a repository's lock only while it talks to Gitea, never
through a back-off sleep (``archive.py``), so one large submission cannot hold a small one back
for longer than its own commit takes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from .errors import UpstreamUnavailable
from .logs import log

FIRST_GUESS_SECONDS = 2.0  # how long a hold lasts, before any was measured
MAX_RETRY_AFTER = 300
NO_WAIT = 0.001


class Busy(UpstreamUnavailable):
    """503: the experiment's lock did not come free before the request's deadline."""

    def __init__(self, key: str, retry_after: int) -> None:
        super().__init__(
            f"the experiment {key} is busy with other submissions; try again in {retry_after} s "
            "(a submission retried with the same Idempotency-Key is committed at most once)"
        )
        self.retry_after = retry_after


@dataclass
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding or waiting
    since: float = 0.0  # when the current holder took it


class KeyedLocks:
    def __init__(self) -> None:
        self._slots: dict[str, _Slot] = {}
        self._hold_seconds = FIRST_GUESS_SECONDS  # a moving average of how long holds last

    @asynccontextmanager
    async def hold(self, key: str, deadline: float | None = None) -> AsyncIterator[None]:
        """Hold ``key``'s lock; waiting past ``deadline`` (``time.monotonic()``) raises Busy."""
        slot = self._slots.setdefault(key.lower(), _Slot())
        slot.users += 1
        try:
            asked = time.monotonic()
            await self._acquire(key, slot, deadline)
            slot.since = time.monotonic()
            log.debug(
                "lock taken",
                extra={"fields": {"key": key, "waited_ms": round((slot.since - asked) * 1000),
                                  "queued": slot.users - 1}},
            )  # fmt: skip
            try:
                yield
            finally:
                held = time.monotonic() - slot.since
                self._hold_seconds = 0.8 * self._hold_seconds + 0.2 * held
                slot.lock.release()
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[key.lower()]

    async def _acquire(self, key: str, slot: _Slot, deadline: float | None) -> None:
        if deadline is None:
            await slot.lock.acquire()
            return
        # past the deadline a free lock is still taken, but no wait is
        left = max(deadline - time.monotonic(), NO_WAIT)
        try:
            await asyncio.wait_for(slot.lock.acquire(), left)
        except asyncio.TimeoutError:
            raise Busy(key, self.retry_after(slot)) from None

    def retry_after(self, slot: _Slot) -> int:
        """A fair wait for a caller refused now: the holds ahead of it, at their usual length."""
        ahead = max(1, slot.users - 1)  # the refused caller no longer counts once it leaves
        return max(1, min(MAX_RETRY_AFTER, math.ceil(ahead * self._hold_seconds)))

    def __len__(self) -> int:
        return len(self._slots)
