"""The archive index: a derived, rebuildable copy of what Gitea holds (docs/index.md)."""

from .cursor import BadCursor
from .store import LEGACY_OWNER, Index, NotebookRecord, Page, SearchQuery, VersionRecord

__all__ = [
    "LEGACY_OWNER",
    "BadCursor",
    "Index",
    "NotebookRecord",
    "Page",
    "SearchQuery",
    "VersionRecord",
]
