"""One SQLAlchemy engine for an index URL, with SQLite set up for a server.

SQLite: WAL (readers never wait for the writer), ``busy_timeout`` (writers queue instead of
failing), foreign keys on, and write transactions that start with ``BEGIN IMMEDIATE`` so that two
writers never meet halfway (a deferred transaction that upgrades to a write can fail at once
with SQLITE_BUSY whatever the timeout). PostgreSQL: psycopg 3, connections checked before use,
``random_page_cost`` of an SSD (see ``_postgres_connect``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 15_000
RANDOM_PAGE_COST = 1.1
MIGRATION_LOCK = 0x45564E49  # "EVNI": the advisory lock replicas take to migrate one at a time
WRITE = "evn_write"  # execution option of a connection that writes


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite index, or None (PostgreSQL, or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the "begin" listener below opens transactions
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _wal(cursor: sqlite3.Cursor) -> None:
    """WAL mode, which the file keeps once set. Switching ignores the busy timeout: replicas
    opening a new file at the same moment answer "database is locked" to all but one, so retry
    until one of them has switched it."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")  # an in-memory database stays "memory"
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _postgres_connect(dbapi_connection: Any, _record: Any) -> None:
    # The planner prices a sequential scan of notebook_texts without the cost of unpacking each
    # row's large tsvector, and with the default random_page_cost (4, for spinning disks) it
    # prefers that scan to the GIN index: 200 ms instead of 30 for a word in a fifth of 50,000
    # notebooks. SSD-like costs for the index's own sessions.
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")
    dbapi_connection.commit()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def _sqlite_opener(path: Path, may_create: Callable[[], bool]) -> Callable[[], Any]:
    """Connections that open the index file but never create it, except while migrating: a file
    deleted while serving then makes reads fail (503) until the rebuild, instead of a new empty
    file that looks like an empty archive and is never rebuilt."""

    def connect() -> sqlite3.Connection:
        mode = "rwc" if may_create() else "rw"
        return sqlite3.connect(f"{path.as_uri()}?mode={mode}", uri=True, check_same_thread=False)

    return connect


def make_engine(url: str, may_create: Callable[[], bool] = lambda: True) -> Engine:
    """``may_create``: whether a new SQLite connection may create a missing file (migrations)."""
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "connect", _postgres_connect)
        return engine
    path = sqlite_path(url)
    if path is None:  # in memory
        engine = create_engine(url, connect_args={"check_same_thread": False})
    else:
        # a missing directory is a configuration error: SQLite fails to open the file
        # the URL names no file, so say the pool a file wants (else: one connection per thread)
        engine = create_engine(
            "sqlite://", creator=_sqlite_opener(path, may_create), poolclass=QueuePool
        )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def serialize_migrations(conn: Connection) -> None:
    """Replicas starting together migrate one after the other (SQLite: BEGIN IMMEDIATE does)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")


def forget_stale_wal(path: Path) -> None:
    """Before a deleted index is recreated: else its old WAL would be replayed into the new file."""
    if not path.exists():
        for suffix in ("-wal", "-shm"):
            try:
                os.unlink(f"{path}{suffix}")
            except FileNotFoundError:
                pass
