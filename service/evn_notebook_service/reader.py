"""The public read side, over the archive index: lists, search, versions, one notebook.

Every answer but a notebook's bytes comes from the index (``index/store.py``); the bytes are one
Gitea call at the version's commit. While the index opens, is rebuilt or cannot be reached,
reads answer 503 with ``Retry-After``. ``fanout.py`` keeps the reads that asked Gitea
everything, for the benchmark.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import DataError, OperationalError

from .config import ServiceConfig
from .errors import BadRequest, NotFound, ServiceError
from .gitea import GiteaClient
from .index.cursor import BadCursor
from .index.experiments import Viewer
from .index.records import LEGACY_OWNER, Page, SearchQuery
from .index.store import Index
from .layout import permalink
from .params import bad_cursor

if TYPE_CHECKING:
    from .indexer import Indexer

T = TypeVar("T")
RETRY_AFTER_SECONDS = 10

__all__ = ["LEGACY_OWNER", "IndexUnavailable", "ListPage", "NotebookEntry", "Reader"]


class IndexUnavailable(ServiceError):
    """503: the index is opening, being rebuilt or unreachable; ``retry_after`` seconds is a
    fair wait (``handlers`` sends it as ``Retry-After``)."""

    status = 503

    def __init__(self, message: str, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class ListPage:
    """One page of a list as the API answers it; ``next_cursor`` None on the last page."""

    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass
class NotebookEntry:
    """What the index knows of one version of a notebook (all of the answer but its bytes)."""

    data: dict[str, Any]
    notebook_path: str
    embargoed: bool = False  # shown only to its submitter: never cached by others

    @property
    def commit(self) -> str:
        return str(self.data["commit"])


class Reader:
    def __init__(
        self,
        config: ServiceConfig,
        gitea: GiteaClient,
        index: Index,
        indexer: Indexer,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock  # when "now" is, for the embargo
        self.gitea = gitea
        self.index = index
        self.indexer = indexer
        self.ready = asyncio.Event()  # set once the index is migrated (app.start_index)

    async def _query(self, call: Callable[..., T], *args: Any) -> T:
        """One index call in a worker thread, refused while the index is not there to ask."""
        if not self.ready.is_set():
            raise IndexUnavailable("the archive index is starting; retry in a few seconds")
        if self.indexer.rebuilding:
            raise IndexUnavailable(
                "the archive index is being rebuilt from Gitea; retry in a few seconds"
            )
        try:
            return await asyncio.to_thread(call, *args)
        except OperationalError as e:
            raise IndexUnavailable(
                "the archive index cannot be reached right now; retry in a few seconds"
            ) from e

    def _viewer(self, sub: str | None) -> Viewer:
        return Viewer.at(self.clock(), sub)

    def _annotated(self, call: Callable[..., Page], viewer: Viewer, *args: Any) -> Page:
        """A page of notebooks ``viewer`` may see, each with its observation (in a thread)."""
        page = call(*args, viewer=viewer)
        self.index.annotate(page.items, viewer)
        return page

    async def _paged(self, call: Callable[..., T], *args: Any, cursor: str | None) -> T:
        """A page of ``call``; a cursor the index cannot use is the caller's mistake (400)."""
        try:
            return await self._query(call, *args, cursor)
        except BadCursor as e:
            raise BadRequest(f"{e}; use the `next` link of the previous page") from e
        except (OverflowError, DataError) as e:
            if cursor is None:
                raise
            # a well-formed cursor whose numbers the database cannot hold: not one of ours
            raise BadRequest(bad_cursor()) from e

    def _link(self, experiment: str, commit: str, path: str) -> str:
        cfg = self.config
        return permalink(cfg.public_gitea_url, cfg.gitea_org, experiment, commit, path)

    def _summary(self, item: dict[str, Any], *extra: str) -> dict[str, Any]:
        """A NotebookSummary (plus the ``extra`` fields) of an index item."""
        keep = _SUMMARY + extra
        out = {k: item[k] for k in keep if k in item}
        out["permalink"] = self._link(item["experiment"], item["commit"], item["notebook_path"])
        return out

    def _page(self, page: Page, *extra: str) -> ListPage:
        return ListPage([self._summary(i, *extra) for i in page.items], page.next_cursor)

    async def experiment_notebooks(
        self, experiment: str, limit: int, cursor: str | None, sub: str | None = None
    ) -> ListPage:
        call = partial(self._annotated, self.index.experiment_page, self._viewer(sub))
        page = await self._paged(call, experiment, limit, cursor=cursor)
        if not page.items and cursor is None:
            raise NotFound(f"no notebook of experiment {experiment} is archived")
        return self._page(page)

    async def submissions_of(self, sub: str, limit: int, cursor: str | None) -> ListPage:
        """The notebooks whose folder the researcher ``sub`` created, most recent first."""
        call = partial(self._annotated, self._owner_page, self._viewer(sub))
        return self._page(await self._paged(call, sub, limit, cursor=cursor))

    def _owner_page(self, sub: str, limit: int, cursor: str | None, viewer: Viewer) -> Page:
        return self.index.owner_page(sub, limit, cursor)

    async def search(
        self, query: SearchQuery, limit: int, cursor: str | None, sub: str | None = None
    ) -> ListPage:
        call = partial(self._annotated, self.index.search, self._viewer(sub))
        page = await self._paged(call, query, limit, cursor=cursor)
        return self._page(page, "snippet")

    async def _folder(self, experiment: str, owner: str, name: str, viewer: Viewer) -> str:
        """The index's ``folder`` of ``owner/name``: itself, but a legacy file's path."""
        if owner != LEGACY_OWNER:
            return f"{owner}/{name}"
        found = await self._query(self.index.folder_of, experiment, owner, name, viewer)
        if found is None:
            raise NotFound(f"{owner}/{name} is not archived in {experiment}")
        return str(found)

    async def versions(
        self,
        experiment: str,
        owner: str,
        name: str,
        limit: int,
        cursor: str | None,
        sub: str | None = None,
    ) -> ListPage:
        viewer = self._viewer(sub)
        folder = await self._folder(experiment, owner, name, viewer)
        call = partial(self.index.versions_page, viewer=viewer)
        page = await self._paged(call, experiment, folder, limit, cursor=cursor)
        if page is None:
            raise NotFound(f"{folder} is not archived in {experiment}")
        items = [
            {
                "version": v["version"],
                "commit": v["commit"],
                "date": v["date"],
                "message": v["message"],
                "permalink": self._link(experiment, v["commit"], v["notebook_path"]),
            }
            for v in page.items
        ]
        return ListPage(items, page.next_cursor)

    async def notebook_entry(
        self, experiment: str, owner: str, name: str, version: int | None, sub: str | None = None
    ) -> NotebookEntry:
        """The version (latest when None) as the index knows it and ``sub`` may see; no Gitea
        call."""
        viewer = self._viewer(sub)
        folder = await self._folder(experiment, owner, name, viewer)
        found = await self._query(self._version, experiment, folder, version, viewer)
        if found is None:
            if version is None:
                raise NotFound(f"{folder} is not archived in {experiment}")
            raise NotFound(f"{folder} in {experiment} has no version {version}")
        item, ver = found
        path = ver.get("notebook_path") or item["notebook_path"]
        return NotebookEntry(
            {
                "experiment": experiment,
                "owner": item["owner"],
                "name": item["name"],
                "metadata": ver["metadata"],
                "provenance": ver["provenance"],
                "version": ver["version"],
                "commit": ver["commit"],
                "updated": ver["date"],
                "permalink": self._link(experiment, ver["commit"], path),
                "legacy": bool(item.get("legacy")),
                "observation": item.get("observation"),
            },
            path,
            embargoed=item.get("public_from") is not None,
        )

    def _version(
        self, experiment: str, folder: str, version: int | None, viewer: Viewer
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        found = self.index.notebook_version(experiment, folder, version, viewer)
        if found is not None:
            self.index.annotate([found[0]], viewer)
        return found

    async def notebook_bytes(self, entry: NotebookEntry) -> bytes:
        """The notebook's stored JSON at the entry's commit: the one Gitea call of a read."""
        experiment = entry.data["experiment"]
        raw = await self.gitea.raw(experiment, entry.notebook_path, entry.commit)
        if raw is None:
            raise NotFound(
                f"{entry.notebook_path} is missing from {experiment} at {entry.commit}; the "
                "archive index is behind Gitea and will catch up, retry later"
            )
        return raw


_SUMMARY = (
    "experiment",
    "owner",
    "name",
    "folder",
    "title",
    "description",
    "authors",
    "license",
    "keywords",
    "version",
    "commit",
    "updated",
    "legacy",
    "observation",
    "public_from",
)
