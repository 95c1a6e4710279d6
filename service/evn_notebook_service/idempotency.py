"""Idempotency records: where one lives, finding it for a replay, when it expires, writing it.

A submission's record is ``.evn/idempotency/<h[:2]>/<h>.json`` with ``h = sha256(sub:key)``
(``layout.idempotency_path``): 256 folders, so each commit rewrites one small folder instead of
one holding every record of the repository. Records written before the sharding sit at
``.evn/idempotency/<h>.json`` and are still found there (both places are read at once).

A record older than ``idempotency_days`` answers no replay: the request is a new submission.
Its commit replaces the expired record — an update guarded by the old record's blob id, or, for
a record at the old place, its deletion plus a new record at the sharded place — so of two writers
of the same expired key only one can commit, as for a key never seen. Expired records of other
keys stay: finding them would mean reading every record (their names are hashes, their age is
inside), and each is a few hundred bytes that git packs as deltas.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .commitbody import FileChange, git_blob_sha
from .layout import idempotency_path, legacy_idempotency_path

if TYPE_CHECKING:
    from .gitea import GiteaClient


@dataclass(frozen=True)
class Found:
    """A record found in the repository: where, its bytes, and whether it has expired."""

    path: str
    raw: bytes
    expired: bool


@dataclass
class Slot:
    """One key's record: where it is written, where an older one may be, and what the latest
    lookup found (the next commit replaces an expired record it found)."""

    path: str
    legacy: str
    found: Found | None = None

    @classmethod
    def of(cls, sub: str, key: str) -> Slot:
        return cls(idempotency_path(sub, key), legacy_idempotency_path(sub, key))

    async def lookup(
        self, gitea: GiteaClient, repo: str, days: float, now: datetime | None = None
    ) -> Found | None:
        """The record of this key in ``repo`` (the sharded place first), expired or not."""
        sharded, legacy = await asyncio.gather(
            gitea.raw(repo, self.path), gitea.raw(repo, self.legacy)
        )
        self.found = None
        for path, raw in ((self.path, sharded), (self.legacy, legacy)):
            if raw is not None:
                self.found = Found(path, raw, expired(raw, days, now))
                break
        return self.found

    def changes(self, record: bytes) -> list[FileChange]:
        """The commit's changes that store ``record``: create it, or replace an expired one."""
        old = self.found
        if old is None:
            return [FileChange("create", self.path, record)]
        if old.path == self.path:
            return [FileChange("update", self.path, record, git_blob_sha(old.raw))]
        return [
            FileChange("create", self.path, record),
            FileChange("delete", old.path, sha=git_blob_sha(old.raw)),
        ]


def expired(raw: bytes, days: float, now: datetime | None = None) -> bool:
    """Whether the record ``raw`` is older than ``days`` (0 or less: records never expire).

    A record without a readable ``created`` time never expires: answering a replay is the safe
    side (a second version of the same request is what idempotency exists to prevent)."""
    if days <= 0:
        return False
    created = _created(raw)
    if created is None:
        return False
    now = now or datetime.now(timezone.utc)
    return now - created > timedelta(days=days)


def _created(raw: bytes) -> datetime | None:
    try:
        record: Any = json.loads(raw)
        created = datetime.fromisoformat(record["created"])
    except (ValueError, TypeError, KeyError):
        return None
    return created if created.tzinfo else created.replace(tzinfo=timezone.utc)
