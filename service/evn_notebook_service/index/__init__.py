"""The archive index: a derived, rebuildable copy of what Gitea holds (docs/index.md)."""

from .cursor import BadCursor
from .experiments import Viewer
from .records import LEGACY_OWNER, NotebookRecord, Page, SearchQuery, VersionRecord
from .store import Index

__all__ = [
    "LEGACY_OWNER",
    "BadCursor",
    "Index",
    "NotebookRecord",
    "Page",
    "SearchQuery",
    "VersionRecord",
    "Viewer",
]
