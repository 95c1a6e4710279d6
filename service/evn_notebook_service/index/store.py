"""``Index``: the derived index of every archived notebook (docs/index.md has the contract).

Sync on purpose: callers run it in a thread (``asyncio.to_thread``). Each write is one
transaction; reads page with keyset cursors (``cursor.py``), search by relevance with an offset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Row, delete, func, insert, literal, select, tuple_, update
from sqlalchemy.sql.elements import ColumnElement

from .cursor import decode as decode_cursor
from .cursor import encode as encode_cursor
from .engine import WRITE, forget_stale_wal, make_engine, serialize_migrations, sqlite_path
from .experiments import ExperimentStore, Viewer, cone_filter, target_filter, visible
from .fulltext import FullText, plain_snippet, searchable
from .leases import LeaseStore
from .paging import search_rows
from .records import (
    SORTS,
    NotebookRecord,
    Page,
    SearchQuery,
    VersionRecord,
    notebook_item,
    notebook_row,
    text_row,
    utc_iso,
    version_item,
    version_row,
)
from .schema import notebook_texts, notebooks, repos, versions

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MAX_LIMIT = 100
RANK_WINDOW = 2000  # a search by relevance ranks at most this many matches: the latest indexed
nb = notebooks.c
# what a listing reads: everything but the full-text columns
ITEM_COLUMNS = [
    notebooks.c[name]
    for name in (
        "id", "experiment", "owner", "name", "folder", "notebook_path", "title", "description",
        "authors", "license", "keywords", "version", "commit", "updated", "legacy",
    )
]  # fmt: skip


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1 to {MAX_LIMIT}, not {limit}")
    return limit


def _page(rows: Sequence[Any], limit: int, key: Callable[[Any], str]) -> Page:
    """``rows`` were fetched with ``limit + 1``: one more row means one more page."""
    items = [notebook_item(r) for r in rows[:limit]]
    return Page(items, key(rows[limit - 1]) if len(rows) > limit else None)


def _insert_notebook(conn: Connection, rec: NotebookRecord, experiment: str) -> int:
    row = {**notebook_row(rec), "experiment": experiment}
    notebook_id = int(conn.execute(insert(notebooks).values(row).returning(nb.id)).scalar_one())
    conn.execute(insert(notebook_texts).values(text_row(notebook_id, rec)))
    return notebook_id


class Index(ExperimentStore, LeaseStore):
    def __init__(self, url: str) -> None:
        self.url = url
        self._file = sqlite_path(url)
        self._migrating = False
        self._engine = make_engine(url, lambda: self._migrating)
        self._fulltext = FullText(self._engine.dialect.name)

    # ---- life cycle

    def migrate(self) -> None:
        """Create or upgrade the tables (Alembic ``upgrade head``); harmless when up to date."""
        if self._file is not None:
            forget_stale_wal(self._file)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        self._migrating = True
        try:
            with self._write() as conn:
                serialize_migrations(conn)
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        finally:
            self._migrating = False

    def dispose(self) -> None:
        """Close every pooled connection (the engine opens new ones when used again)."""
        self._engine.dispose()

    def missing(self) -> bool:
        """SQLite: whether the index file is gone (deleted while serving). PostgreSQL: False."""
        return self._file is not None and not self._file.exists()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    # ---- writes

    def put_version(self, rec: NotebookRecord, version: VersionRecord) -> None:
        """Write-through after a commit: the notebook row (unless a newer version is already
        recorded) and this version (replacing the same version number: idempotent)."""
        with self._write() as conn:
            row = notebook_row(rec)
            found = conn.execute(
                select(nb.id, nb.version).where(
                    nb.experiment == row["experiment"], nb.folder == rec.folder
                )
            ).first()
            if found is None:
                notebook_id = _insert_notebook(conn, rec, row["experiment"])
            else:
                notebook_id = found.id
                if rec.version >= found.version:
                    conn.execute(update(notebooks).where(nb.id == notebook_id).values(row))
                    texts = text_row(notebook_id, rec)
                    del texts["notebook_id"]
                    conn.execute(
                        update(notebook_texts)
                        .where(notebook_texts.c.notebook_id == notebook_id)
                        .values(texts)
                    )
            conn.execute(
                delete(versions).where(
                    versions.c.notebook_id == notebook_id, versions.c.version == version.version
                )
            )
            conn.execute(insert(versions).values(version_row(notebook_id, version)))

    def replace_repo(
        self,
        experiment: str,
        notebooks_: list[tuple[NotebookRecord, list[VersionRecord]]],
        head: str,
        gitea_updated: str,
    ) -> None:
        """A reindexed repository: its rows become exactly these; records its head and Gitea's
        ``updated_at`` (``repo_marks``)."""
        code = experiment.upper()
        with self._write() as conn:
            doomed = select(nb.id).where(nb.experiment == code).scalar_subquery()
            for table in (notebook_texts, versions):
                conn.execute(delete(table).where(table.c.notebook_id.in_(doomed)))
            conn.execute(delete(notebooks).where(nb.experiment == code))
            for rec, recs in notebooks_:
                notebook_id = _insert_notebook(conn, rec, code)
                if recs:
                    conn.execute(insert(versions), [version_row(notebook_id, v) for v in recs])
            conn.execute(delete(repos).where(repos.c.experiment == code))
            conn.execute(
                insert(repos).values(experiment=code, head=head, gitea_updated=gitea_updated)
            )

    def repo_marks(self) -> dict[str, tuple[str, str]]:
        with self._read() as conn:
            rows = conn.execute(select(repos.c.experiment, repos.c.head, repos.c.gitea_updated))
            return {r.experiment: (r.head, r.gitea_updated) for r in rows}

    def clear(self) -> None:
        """Forget every notebook, version and repository (not the leases)."""
        with self._write() as conn:
            for table in (notebook_texts, versions, notebooks, repos):
                conn.execute(delete(table))

    # ---- reads

    def experiment_page(
        self, experiment: str, limit: int, cursor: str | None, viewer: Viewer | None = None
    ) -> Page:
        """An experiment's notebooks ``viewer`` may see, by owner, then name."""
        limit = _limit(limit)
        stmt = select(*ITEM_COLUMNS).where(nb.experiment == experiment.upper())
        if cursor is not None:
            owner, name, last = decode_cursor(cursor, "experiment", str, str, int)
            stmt = stmt.where(tuple_(nb.owner, nb.name, nb.id) > tuple_(owner, name, last))
        stmt = stmt.order_by(nb.owner, nb.name, nb.id).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(stmt.where(*visible(conn, viewer))).all()
        return _page(rows, limit, lambda r: encode_cursor("experiment", r.owner, r.name, r.id))

    def owner_page(self, owner_sub: str, limit: int, cursor: str | None) -> Page:
        """The notebooks the researcher ``owner_sub`` owns, the latest updated first (embargoed
        ones too)."""
        limit = _limit(limit)
        stmt = select(*ITEM_COLUMNS).where(nb.owner_sub == owner_sub)
        if cursor is not None:
            updated, last = decode_cursor(cursor, "owner", str, int)
            stmt = stmt.where(tuple_(nb.updated, nb.id) < tuple_(updated, last))
        stmt = stmt.order_by(nb.updated.desc(), nb.id.desc()).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return _page(rows, limit, lambda r: encode_cursor("owner", r.updated, r.id))

    def _notebook(
        self, conn: Connection, experiment: str, folder: str, viewer: Viewer | None
    ) -> Row[Any] | None:
        """The notebook's row, None when there is none or ``viewer`` may not see it."""
        return conn.execute(
            select(*ITEM_COLUMNS).where(
                nb.experiment == experiment.upper(), nb.folder == folder, *visible(conn, viewer)
            )
        ).first()

    def folder_of(
        self, experiment: str, owner: str, name: str, viewer: Viewer | None = None
    ) -> str | None:
        """The ``folder`` of the notebook addressed as ``owner/name`` (a legacy entry's folder is
        its file's path), or None; one lookup on (experiment, owner, name)."""
        with self._read() as conn:
            found = conn.execute(
                select(nb.folder).where(
                    nb.experiment == experiment.upper(),
                    nb.owner == owner,
                    nb.name == name,
                    *visible(conn, viewer),
                )
            ).first()
        return None if found is None else str(found.folder)

    def versions_page(
        self,
        experiment: str,
        folder: str,
        limit: int,
        cursor: str | None,
        viewer: Viewer | None = None,
    ) -> Page | None:
        """A notebook's versions, the newest first; None when the index knows no such notebook."""
        limit = _limit(limit)
        vc = versions.c
        with self._read() as conn:
            found = self._notebook(conn, experiment, folder, viewer)
            if found is None:
                return None
            stmt = select(vc.version, vc.commit, vc.date, vc.message).where(
                vc.notebook_id == found.id
            )
            if cursor is not None:
                (last,) = decode_cursor(cursor, "versions", int)
                stmt = stmt.where(vc.version < last)
            rows = conn.execute(stmt.order_by(vc.version.desc()).limit(limit + 1)).all()
        more = len(rows) > limit
        return Page(
            [version_item(r, found.notebook_path) for r in rows[:limit]],
            encode_cursor("versions", rows[limit - 1].version) if more else None,
        )

    def notebook_version(
        self, experiment: str, folder: str, version: int | None, viewer: Viewer | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(notebook item, version item + "metadata" + "provenance"); the latest version when
        ``version`` is None; None when the index knows no such notebook or version."""
        vc = versions.c
        with self._read() as conn:
            found = self._notebook(conn, experiment, folder, viewer)
            if found is None:
                return None
            row = conn.execute(
                select(vc.version, vc.commit, vc.date, vc.message, vc["metadata"], vc.provenance)
                .where(vc.notebook_id == found.id)
                .where(vc.version == (found.version if version is None else version))
            ).first()
        if row is None:
            return None
        detail = version_item(row, found.notebook_path)
        detail["metadata"] = json.loads(row.metadata)
        detail["provenance"] = None if row.provenance is None else json.loads(row.provenance)
        return notebook_item(found), detail

    def search(
        self, query: SearchQuery, limit: int, cursor: str | None, viewer: Viewer | None = None
    ) -> Page:
        """Notebooks matching ``query`` that ``viewer`` may see; hits carry ``snippet`` (safe
        HTML) and ``rank``."""
        limit = _limit(limit)
        if query.sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {query.sort!r}")
        full = searchable(query.q)
        sort = "updated" if query.sort == "relevance" and not full else query.sort
        where = self._filters(query)
        source: Any = notebooks
        rank: ColumnElement[Any] = literal(0.0)
        with self._read() as conn:
            where += visible(conn, viewer)
            filtered = bool(where)
            if full:
                self._fulltext.prepare(conn)
                match = self._fulltext.match(query.q)
                source, rank = match.source, match.rank
                where.append(match.where)
                if sort == "relevance":
                    window_source = match.source if filtered else match.texts
                    where += self._window(conn, window_source, match.key, where)
            stmt = select(*ITEM_COLUMNS, rank.label("rank")).select_from(source).where(*where)
            rows, key = search_rows(conn, stmt, sort, rank, limit, cursor)
            page = _page(rows, limit, key)
            ids = [r.id for r in rows[:limit]]
            snippets = self._fulltext.snippets(conn, query.q, ids) if full else {}
        for item, row in zip(page.items, rows, strict=False):
            item["snippet"] = snippets.get(row.id) or plain_snippet(row.description)
            item["rank"] = float(row.rank)
        return page

    @staticmethod
    def _window(
        conn: Connection, source: Any, key: Any, where: list[ColumnElement[bool]]
    ) -> list[ColumnElement[bool]]:
        """Ranking every match of a word that every notebook holds costs ~3 µs a match: rank
        only the RANK_WINDOW latest indexed matches (all of them when fewer match)."""
        query = select(key.label("k")).select_from(source).where(*where)
        latest = query.order_by(key.desc()).limit(RANK_WINDOW).subquery()
        floor = conn.execute(select(func.min(latest.c.k))).scalar()
        return [] if floor is None else [key >= floor, nb.id >= floor]  # both: PG joins on it

    def _filters(self, query: SearchQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if query.experiment:
            where.append(nb.experiment == query.experiment.upper())
        if query.author:
            where.append(nb.authors_lc.contains(query.author.lower(), autoescape=True))
        if query.orcid:
            where.append(nb.orcids.contains(f"\n{query.orcid.upper()}\n", autoescape=True))
        if query.keyword:
            where.append(nb.keywords_lc.contains(f"\n{query.keyword.lower()}\n", autoescape=True))
        if query.license:
            where.append(nb.license == query.license)
        if query.since:
            where.append(nb.updated >= utc_iso(query.since))
        if query.until:
            where.append(nb.updated <= utc_iso(query.until, end_of_day=True))
        if query.target:
            where.append(target_filter(query.target))
        if query.cone is not None:
            where.append(cone_filter(*query.cone))
        return where

    def experiment_known(self, experiment: str) -> bool:
        with self._read() as conn:
            stmt = select(nb.id).where(nb.experiment == experiment.upper()).limit(1)
            return conn.execute(stmt).first() is not None

    def counts(self) -> dict[str, int]:
        with self._read() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in (
                    ("notebooks", notebooks),
                    ("versions", versions),
                    ("repositories", repos),
                )
            }
