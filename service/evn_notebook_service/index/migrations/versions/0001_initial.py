"""The index's first tables: notebooks, notebook_texts, versions, repos, leases, full text.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# SQLite: an external-content FTS5 table over notebook_texts, kept in step by triggers
SQLITE_FTS = [
    """CREATE VIRTUAL TABLE notebooks_fts USING fts5(
        title, description, keywords_text, authors_text, body,
        content='notebook_texts', content_rowid='notebook_id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER notebooks_fts_insert AFTER INSERT ON notebook_texts BEGIN
        INSERT INTO notebooks_fts(rowid, title, description, keywords_text, authors_text, body)
        VALUES (new.notebook_id, new.title, new.description, new.keywords_text,
                new.authors_text, new.body);
    END""",
    """CREATE TRIGGER notebooks_fts_delete AFTER DELETE ON notebook_texts BEGIN
        INSERT INTO notebooks_fts(notebooks_fts, rowid, title, description, keywords_text,
                                  authors_text, body)
        VALUES ('delete', old.notebook_id, old.title, old.description, old.keywords_text,
                old.authors_text, old.body);
    END""",
    """CREATE TRIGGER notebooks_fts_update AFTER UPDATE ON notebook_texts BEGIN
        INSERT INTO notebooks_fts(notebooks_fts, rowid, title, description, keywords_text,
                                  authors_text, body)
        VALUES ('delete', old.notebook_id, old.title, old.description, old.keywords_text,
                old.authors_text, old.body);
        INSERT INTO notebooks_fts(rowid, title, description, keywords_text, authors_text, body)
        VALUES (new.notebook_id, new.title, new.description, new.keywords_text,
                new.authors_text, new.body);
    END""",
]

# PostgreSQL: a stored generated tsvector (weights: A title, B keywords + authors, C description,
# D notebook text) and a GIN index on it
POSTGRES_FTS = [
    """ALTER TABLE notebook_texts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', keywords_text || ' ' || authors_text), 'B') ||
        setweight(to_tsvector('simple', description), 'C') ||
        setweight(to_tsvector('simple', body), 'D')) STORED""",
    "CREATE INDEX ix_notebook_texts_search_vector ON notebook_texts USING gin (search_vector)",
    # text and tsvector out of the rows (TOAST) even when short: the heap stays a few MB, so a
    # bitmap scan of the GIN index's matches reads little, and only ranked rows are unpacked
    "ALTER TABLE notebook_texts SET (toast_tuple_target = 128)",
]


def upgrade() -> None:
    _notebooks()
    _notebook_texts()
    _versions()
    _bookkeeping()
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}.get(dialect, []):
        op.execute(statement)


def _notebooks() -> None:
    op.create_table(
        "notebooks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("experiment", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("folder", sa.String(1024), nullable=False),
        sa.Column("notebook_path", sa.String(1024), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("authors", sa.Text, nullable=False),
        sa.Column("license", sa.String(128), nullable=False),
        sa.Column("keywords", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("commit", sa.String(64), nullable=False),
        sa.Column("updated", sa.String(32), nullable=False),
        sa.Column("owner_sub", sa.String(255), nullable=True),
        sa.Column("legacy", sa.Boolean, nullable=False),
        sa.Column("authors_lc", sa.Text, nullable=False),
        sa.Column("orcids", sa.Text, nullable=False),
        sa.Column("keywords_lc", sa.Text, nullable=False),
        sa.UniqueConstraint("experiment", "folder", name="uq_notebooks_experiment_folder"),
    )
    op.create_index(
        "ix_notebooks_experiment_owner_name", "notebooks", ["experiment", "owner", "name", "id"]
    )
    op.create_index("ix_notebooks_owner_sub_updated", "notebooks", ["owner_sub", "updated", "id"])
    # SQLite walks these in order for a search without words and checks the filters row by row:
    # with the filter columns in the index a rare author costs 12 ms over 50,000 notebooks, not
    # 120 (a table lookup per row). PostgreSQL plans with statistics, and its index entries are
    # limited to 2.7 kB, which 100 author names can exceed.
    covering = ["experiment", "license", "authors_lc", "orcids", "keywords_lc"]
    extra = covering if op.get_bind().dialect.name == "sqlite" else []
    op.create_index("ix_notebooks_updated", "notebooks", ["updated", "id", *extra])
    op.create_index("ix_notebooks_title", "notebooks", ["title", "id", *extra])


def _notebook_texts() -> None:
    op.create_table(
        "notebook_texts",
        sa.Column(
            "notebook_id",
            sa.Integer,
            sa.ForeignKey("notebooks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("keywords_text", sa.Text, nullable=False),
        sa.Column("authors_text", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )


def _versions() -> None:
    op.create_table(
        "versions",
        sa.Column(
            "notebook_id",
            sa.Integer,
            sa.ForeignKey("notebooks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("commit", sa.String(64), nullable=False),
        sa.Column("date", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("provenance", sa.Text, nullable=True),
    )


def _bookkeeping() -> None:
    """What the indexer and the replicas keep: each repository's mark, the leases."""
    op.create_table(
        "repos",
        sa.Column("experiment", sa.String(64), primary_key=True),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("gitea_updated", sa.String(64), nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS notebooks_fts")
    for table in ("leases", "repos", "versions", "notebook_texts", "notebooks"):
        op.drop_table(table)
