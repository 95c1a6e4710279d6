"""Leases: one replica at a time does a job (the reconcile, the release of embargoes)."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager

from sqlalchemy import Connection, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .schema import leases


class LeaseStore:
    """The leases' part of ``Index`` (it provides ``_write``)."""

    def _write(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def try_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew the lease ``name`` for ``seconds``; False while another holder has it."""
        now = time.time()
        lc = leases.c
        try:
            with self._write() as conn:
                taken = conn.execute(
                    update(leases)
                    .where(lc.name == name, or_(lc.holder == holder, lc.expires < now))
                    .values(holder=holder, expires=now + seconds)
                )
                if taken.rowcount == 1:
                    return True
                if conn.execute(select(lc.name).where(lc.name == name)).first() is not None:
                    return False
                conn.execute(insert(leases).values(name=name, holder=holder, expires=now + seconds))
                return True
        except IntegrityError:  # another replica inserted it first
            return False

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))
