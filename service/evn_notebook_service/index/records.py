"""What the index stores and answers: the records the indexer writes, the query, a page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from .fulltext import clean_text

LEGACY_OWNER = "_legacy"
MAX_TEXT = 1_000_000  # characters of searchable text kept per notebook
SORTS = ("relevance", "updated", "title")


@dataclass
class NotebookRecord:
    """What the indexer writes for one notebook (its latest version)."""

    experiment: str  # repository name, upper case
    owner: str  # folder owner; LEGACY_OWNER for a legacy entry
    name: str  # folder name, or the legacy file's stem (slugged)
    folder: str  # "<owner>/<name>", or the legacy file's path in the repository
    notebook_path: str  # path of the .ipynb in the repository
    title: str
    description: str
    authors: list[dict[str, Any]]  # [{"name", "orcid"?, "affiliation"?}]
    license: str  # "" for a legacy entry
    keywords: list[str]
    version: int
    commit: str  # the commit that made ``version``
    updated: str  # ISO 8601 of the latest version (stored as YYYY-MM-DDTHH:MM:SSZ)
    owner_sub: str | None  # Keycloak subject of the owner; None for legacy
    legacy: bool
    text: str  # searchable text (notebooktext.py), at most MAX_TEXT characters kept


@dataclass
class VersionRecord:
    version: int
    commit: str
    date: str
    message: str
    metadata: dict[str, Any]  # the metadata of that version (legacy: title only)
    provenance: dict[str, Any] | None  # provenance.json of that version, if any


@dataclass
class SearchQuery:
    q: str = ""  # full text (title, description, keywords, authors, cell text); "" = all
    experiment: str | None = None
    author: str | None = None  # substring of an author's name, case-insensitive
    orcid: str | None = None
    keyword: str | None = None  # one of the keywords, case-insensitive
    license: str | None = None
    since: str | None = None  # ISO date or date-time, on `updated` (inclusive)
    until: str | None = None  # ISO date (the whole day) or date-time (inclusive)
    sort: str = "relevance"  # relevance (only with q; else updated) | updated | title
    target: str | None = None  # part of a target's name, ignoring case and spaces
    cone: tuple[float, float, float] | None = None  # (ra, dec, radius), degrees, ICRS


@dataclass
class Page:
    items: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None


def utc_iso(value: str, *, end_of_day: bool = False) -> str:
    """``value`` (ISO 8601 date or date-time) as ``YYYY-MM-DDTHH:MM:SSZ``, which sorts as text.

    A bare date is its first second, or with ``end_of_day`` its last. Raises ValueError.
    """
    value = value.strip()
    if len(value) == 10:
        day = date.fromisoformat(value).isoformat()
        return f"{day}T23:59:59Z" if end_of_day else f"{day}T00:00:00Z"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lines(values: list[str]) -> str:
    """``\\nA\\nB\\n``: a whole value matches as ``\\nA\\n``, a substring cannot cross values."""
    return "\n" + "\n".join(values) + "\n" if values else ""


def notebook_row(rec: NotebookRecord) -> dict[str, Any]:
    names = [str(a.get("name", "")) for a in rec.authors]
    orcids = [str(a["orcid"]).upper() for a in rec.authors if a.get("orcid")]  # its X
    return {
        "experiment": rec.experiment.upper(),
        "owner": rec.owner,
        "name": rec.name,
        "folder": rec.folder,
        "notebook_path": rec.notebook_path,
        "title": rec.title,
        "description": rec.description,
        "authors": json.dumps(rec.authors, ensure_ascii=False),
        "license": rec.license,
        "keywords": json.dumps(rec.keywords, ensure_ascii=False),
        "version": rec.version,
        "commit": rec.commit,
        "updated": utc_iso(rec.updated),
        "owner_sub": rec.owner_sub,
        "legacy": rec.legacy,
        "authors_lc": _lines([n.lower() for n in names]),
        "orcids": _lines(orcids),
        "keywords_lc": _lines([k.lower() for k in rec.keywords]),
    }


def text_row(notebook_id: int, rec: NotebookRecord) -> dict[str, Any]:
    """What full text searches, in a table of its own (``notebook_texts``)."""
    return {
        "notebook_id": notebook_id,
        "title": clean_text(rec.title),
        "description": clean_text(rec.description),
        "keywords_text": clean_text("\n".join(rec.keywords)),
        "authors_text": clean_text("\n".join(str(a.get("name", "")) for a in rec.authors)),
        "body": clean_text(rec.text[:MAX_TEXT]),
    }


def version_row(notebook_id: int, v: VersionRecord) -> dict[str, Any]:
    return {
        "notebook_id": notebook_id,
        "version": v.version,
        "commit": v.commit,
        "date": v.date,
        "message": v.message,
        "metadata": json.dumps(v.metadata, ensure_ascii=False),
        "provenance": None if v.provenance is None else json.dumps(v.provenance),
    }


def notebook_item(row: Any) -> dict[str, Any]:
    """A notebook's item (NotebookSummary without permalink, + notebook_path, legacy)."""
    return {
        "experiment": row.experiment,
        "owner": row.owner,
        "name": row.name,
        "folder": row.folder,
        "title": row.title,
        "description": row.description,
        "authors": json.loads(row.authors),
        "license": row.license,
        "keywords": json.loads(row.keywords),
        "version": row.version,
        "commit": row.commit,
        "updated": row.updated,
        "notebook_path": row.notebook_path,
        "legacy": bool(row.legacy),
    }


def version_item(row: Any, notebook_path: str) -> dict[str, Any]:
    return {
        "version": row.version,
        "commit": row.commit,
        "date": row.date,
        "message": row.message,
        "notebook_path": notebook_path,
    }
