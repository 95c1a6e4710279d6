"""The index's tables (SQLAlchemy Core). JSON is stored as text, dates as ISO 8601 UTC strings.

The searchable text lives in ``notebook_texts``, not in ``notebooks``: its rows stay small, so a
scan for a filter (author, keyword) reads a few megabytes, not the notebooks' text.
The full-text parts (SQLite's FTS5 table, PostgreSQL's ``tsvector`` column) are not declared here:
they differ per database and live in ``fulltext.py`` and the migrations.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

notebooks = Table(
    "notebooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("experiment", String(64), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("name", String(256), nullable=False),
    Column("folder", String(1024), nullable=False),
    Column("notebook_path", String(1024), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("authors", Text, nullable=False),  # JSON list of {"name", "orcid"?, "affiliation"?}
    Column("license", String(128), nullable=False),
    Column("keywords", Text, nullable=False),  # JSON list of strings
    Column("version", Integer, nullable=False),
    Column("commit", String(64), nullable=False),
    Column("updated", String(32), nullable=False),  # YYYY-MM-DDTHH:MM:SSZ, sorts as text
    Column("owner_sub", String(255), nullable=True),
    Column("legacy", Boolean, nullable=False),
    # derived, for the filters: "\nA\nB\n", lower case where the filter ignores case
    Column("authors_lc", Text, nullable=False),  # author filter (a substring of one name)
    Column("orcids", Text, nullable=False),  # orcid filter
    Column("keywords_lc", Text, nullable=False),  # keyword filter (one whole keyword)
    UniqueConstraint("experiment", "folder", name="uq_notebooks_experiment_folder"),
    Index("ix_notebooks_experiment_owner_name", "experiment", "owner", "name", "id"),
    Index("ix_notebooks_owner_sub_updated", "owner_sub", "updated", "id"),
    # on SQLite these two also hold the filter columns (see migrations/versions/0001_initial.py)
    Index("ix_notebooks_updated", "updated", "id"),
    Index("ix_notebooks_title", "title", "id"),
)

# one row per notebook: what full text searches (FTS5 / tsvector are built over these columns)
notebook_texts = Table(
    "notebook_texts",
    metadata,
    Column(
        "notebook_id",
        Integer,
        ForeignKey("notebooks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("keywords_text", Text, nullable=False),  # keywords, one a line
    Column("authors_text", Text, nullable=False),  # author names, one a line
    Column("body", Text, nullable=False),  # the notebook's searchable text (notebooktext.py)
)

versions = Table(
    "versions",
    metadata,
    Column(
        "notebook_id",
        Integer,
        ForeignKey("notebooks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("commit", String(64), nullable=False),
    Column("date", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("metadata", Text, nullable=False),  # JSON
    Column("provenance", Text, nullable=True),  # JSON or NULL
)

repos = Table(
    "repos",
    metadata,
    Column("experiment", String(64), primary_key=True),
    Column("head", String(64), nullable=False),
    Column("gitea_updated", String(64), nullable=False),
)

# what the archive's catalogue says of an experiment with notebooks (docs/catalogue.md)
experiments = Table(
    "experiments",
    metadata,
    Column("experiment", String(64), primary_key=True),
    Column("observation", Text, nullable=False),  # JSON: {"targets", "public_from", "products"}
    Column("public_from", String(32), nullable=True),  # YYYY-MM-DDTHH:MM:SSZ; NULL: public
    Column("released", Boolean, nullable=False),  # its repository has been made public
    Index("ix_experiments_public_from", "public_from"),
)

# one row per target of an experiment; (x, y, z) is the unit vector of (ra, dec), for the cone
experiment_targets = Table(
    "experiment_targets",
    metadata,
    Column("experiment", String(64), nullable=False),
    Column("position", Integer, nullable=False),  # the catalogue's order
    Column("name", String(256), nullable=False),
    Column("name_key", String(256), nullable=False),  # lower case, no spaces
    Column("ra", Float, nullable=True),
    Column("dec", Float, nullable=True),
    Column("x", Float, nullable=True),
    Column("y", Float, nullable=True),
    Column("z", Float, nullable=True),
    PrimaryKeyConstraint("experiment", "position", name="pk_experiment_targets"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("expires", Float, nullable=False),  # seconds since the epoch
)
