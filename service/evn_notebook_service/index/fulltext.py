"""Full text, the one place where SQLite and PostgreSQL differ.

- SQLite: an FTS5 table ``notebooks_fts`` over ``notebook_texts`` (external content, kept in step by
  triggers that the migration creates), ``MATCH`` with a query built here from websearch-like
  syntax, ``bm25()`` for relevance (with column weights) and ``snippet()`` for the excerpt.
- PostgreSQL: a stored generated ``tsvector`` column ``notebook_texts.search_vector`` (weights
  A title, B keywords and authors, C description, D text) with a GIN index,
  ``websearch_to_tsquery('simple', q)``, ``ts_rank`` and ``ts_headline``.

Both mark the matched words with two control characters that the store turns into ``<mark>`` and
``</mark>`` after HTML-escaping everything else (``render_snippet``), so the excerpt is safe HTML
whatever the notebook holds.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    FromClause,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from .schema import notebook_texts, notebooks

START, STOP = "\x02", "\x03"  # never in stored text: the store removes them (clean_text)
SNIPPET_WORDS = 24
HEADLINE_CHARS = 30_000  # what ts_headline reads of a notebook's text (7 ms per 100 kB)

_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')

# SQLite's FTS5 table (created by the migration, not by metadata.create_all)
_fts_metadata = MetaData()
fts = Table(
    "notebooks_fts",
    _fts_metadata,
    Column("rowid", Integer),
    Column("title", Text),
    Column("description", Text),
    Column("keywords_text", Text),
    Column("authors_text", Text),
    Column("body", Text),
)
FTS_COLUMNS = ("title", "description", "keywords_text", "authors_text", "body")
FTS_WEIGHTS = (10.0, 4.0, 6.0, 6.0, 1.0)  # in FTS_COLUMNS order


def clean_text(value: str) -> str:
    """``value`` without the snippet markers, so that stored text can never fake a ``<mark>``."""
    return value.replace(START, "").replace(STOP, "")


def render_snippet(raw: str) -> str:
    return html.escape(raw).replace(START, "<mark>").replace(STOP, "</mark>")


def plain_snippet(text: str, chars: int = 200) -> str:
    """An excerpt without matches (a search without ``q``): the text's start, HTML-escaped."""
    text = " ".join(text.split())
    return html.escape(text if len(text) <= chars else text[: chars - 1] + "…")


def searchable(q: str) -> bool:
    """Whether ``q`` holds a word to search for (else the search lists everything)."""
    return bool(_parse(q)[0])


def _parse(q: str) -> tuple[list[list[str]], list[str]]:
    groups: list[list[str]] = []  # AND of ORs
    negated: list[str] = []
    join_next = False
    for token in _TOKEN.findall(q):
        if token.lower() == "or":
            join_next = bool(groups)
            continue
        neg = token.startswith("-") and len(token) > 1
        words = _WORD.findall(token[1:] if neg else token)
        if not words:
            continue
        term = '"' + " ".join(words) + '"'  # \w+ holds no '"': nothing to escape
        if neg:
            negated.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    return groups, negated


def fts5_query(q: str) -> str:
    """Web-search syntax (``"phrase"``, ``-word``, ``or``; words AND-ed) as an FTS5 query.

    Every term becomes a quoted FTS5 string, so nothing the user types is FTS5 syntax.
    """
    groups, negated = _parse(q)
    query = " AND ".join("(" + " OR ".join(alts) + ")" for alts in groups)
    for term in negated:
        query = f"({query}) NOT {term}"
    return query


@dataclass
class Match:
    source: FromClause  # ``notebooks`` joined to what full text searches
    where: ColumnElement[bool]
    rank: ColumnElement[float]  # higher is better
    key: ColumnElement[int]  # the notebook's id, as the full-text index orders it best
    texts: FromClause  # the full-text table alone (enough when no other filter applies)


class FullText:
    """The strategy of one database: how to match and rank, and how to cut the excerpts."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def match(self, q: str) -> Match:
        if self.sqlite:
            table: ColumnClause[Any] = literal_column("notebooks_fts")
            return Match(
                source=notebooks.join(fts, fts.c.rowid == notebooks.c.id),
                where=table.op("MATCH")(fts5_query(q)),
                rank=-func.bm25(table, *FTS_WEIGHTS, type_=Float),
                key=fts.c.rowid,
                texts=fts,
            )
        vector: ColumnClause[Any] = literal_column("notebook_texts.search_vector")
        tsq = func.websearch_to_tsquery("simple", q)
        texts = notebook_texts.c
        return Match(
            source=notebooks.join(notebook_texts, texts.notebook_id == notebooks.c.id),
            where=vector.op("@@")(tsq),
            rank=func.ts_rank(vector, tsq, type_=Float),
            key=texts.notebook_id,
            texts=notebook_texts,
        )

    def prepare(self, conn: Connection) -> None:
        """Before the queries of one full-text search, in its transaction.

        PostgreSQL prices a sequential or index-ordered scan of notebook_texts without the cost
        of unpacking each row's tsvector to test it, so it prefers those to the GIN index: 40-
        200 ms instead of 4-16 for a word in a fifth (or all) of 50,000 notebooks. Bitmap scans
        of the GIN index only, for this transaction (SET LOCAL).
        """
        if not self.sqlite:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("SET LOCAL enable_indexscan = off")

    def snippets(self, conn: Connection, q: str, ids: Iterable[int]) -> dict[int, str]:
        """The excerpt of each notebook in ``ids`` (one page) around the words ``q`` matched."""
        ids = list(ids)
        if not ids:
            return {}
        if self.sqlite:
            table: ColumnClause[Any] = literal_column("notebooks_fts")
            cut = func.snippet(table, -1, START, STOP, "…", SNIPPET_WORDS, type_=Text)
            stmt = select(fts.c.rowid, cut).where(
                table.op("MATCH")(fts5_query(q)), fts.c.rowid.in_(ids)
            )
        else:
            texts = notebook_texts.c
            doc = func.concat_ws(
                " — ", texts.title, texts.description, func.left(texts.body, HEADLINE_CHARS)
            )
            options = (
                f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, "
                'MaxFragments=2, FragmentDelimiter=" … "'
            )
            headline = func.ts_headline(
                "simple", doc, func.websearch_to_tsquery("simple", q), options, type_=Text
            )
            stmt = select(texts.notebook_id, headline).where(texts.notebook_id.in_(ids))
        return {int(i): render_snippet(s or "") for i, s in conn.execute(stmt)}
