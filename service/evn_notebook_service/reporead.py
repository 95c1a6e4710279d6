"""Read one repository of the organisation from Gitea as index records.

Notebooks the service archived come from their state files ``.evn/notebooks/<owner>/<name>.json``
on the service's branch (one recursive tree listing); each one's versions are the commits that
touched its state file, newest last numbered 1. Legacy notebooks are the ``.ipynb`` files at the
root of the default branch. Versions the index already holds for the same commit are taken from
it (what a commit stored never changes), so a reindex reads only what is new.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from .config import ServiceConfig
from .contract import RuleError, name_from_title
from .gitea import GiteaClient
from .index.records import LEGACY_OWNER, NotebookRecord, VersionRecord, utc_iso
from .layout import STATE_DIR, NotebookPaths
from .logs import log
from .notebooktext import NotebookText, notebook_text

if TYPE_CHECKING:
    from .index.store import Index

T = TypeVar("T")
FANOUT = 8  # Gitea calls in flight for one reader
BODIES = 2  # notebooks (up to 50 MB each) being fetched or parsed at once
UNSETTLED_SECONDS = 30  # an updated_at this recent may not count a commit of the same second
TEXT_CACHE_CHARS = 16_000_000  # enough for the notebooks of the repositories touched lately
Entry = tuple[NotebookRecord, list[VersionRecord]]
Read = Callable[[dict[str, Any]], Awaitable[tuple[dict[str, Any], dict[str, Any] | None]]]


def commit_message(message: str) -> str:
    """What a version says about itself: the commit message without the service's trailer."""
    return message.split("\n\nExperiment: ")[0].strip()


@dataclass
class Repository:
    """One repository as read: its rows, and the mark the index records for it."""

    notebooks: list[Entry]
    head: str  # the default branch's head commit
    updated: str  # Gitea's updated_at, or "" when too recent to trust (see ``_settled``)


class TextCache:
    """Searchable texts by blob id (content-addressed, so never stale), least recently used out."""

    def __init__(self, max_chars: int = TEXT_CACHE_CHARS) -> None:
        self.max_chars = max_chars
        self._texts: OrderedDict[str, NotebookText] = OrderedDict()
        self._chars = 0

    def get(self, blob: str | None) -> NotebookText | None:
        found = self._texts.get(blob) if blob else None
        if found is not None:
            self._texts.move_to_end(blob)  # type: ignore[arg-type]
        return found

    def put(self, blob: str | None, text: NotebookText) -> None:
        if not blob or blob in self._texts:
            return
        self._texts[blob] = text
        self._chars += len(text.text)
        while self._chars > self.max_chars and self._texts:
            _, dropped = self._texts.popitem(last=False)
            self._chars -= len(dropped.text)


class RepoReader:
    def __init__(self, config: ServiceConfig, gitea: GiteaClient, index: Index) -> None:
        self.config = config
        self.gitea = gitea
        self.index = index
        self.texts = TextCache()
        self._gate = asyncio.Semaphore(FANOUT)
        self._bodies = asyncio.Semaphore(BODIES)

    async def read(self, experiment: str) -> Repository | None:
        """``experiment``'s repository as it is in Gitea now; None when it does not exist."""
        info = await self.gitea.repository(experiment)  # first: never newer than what follows
        if info is None:
            return None
        branch = self.config.gitea_branch
        default = str(info.get("default_branch") or branch)
        head, tree = await asyncio.gather(
            self.gitea.branch_head(experiment, default), self.gitea.tree(experiment, branch)
        )
        root = tree if default == branch else await self.gitea.tree(experiment, default)
        jobs: list[Awaitable[Entry | None]] = [
            self._service_notebook(experiment, path, branch) for path in _state_files(tree)
        ]
        jobs += [
            self._legacy_notebook(experiment, path, name, default)
            for path, name in _legacy_files(root)
        ]
        found = [entry for entry in await asyncio.gather(*jobs) if entry is not None]
        return Repository(found, head or "", _settled(str(info.get("updated_at") or "")))

    async def _call(self, job: Awaitable[T]) -> T:
        async with self._gate:
            return await job

    async def _text(
        self, experiment: str, path: str, commit: str, blob: str | None = None
    ) -> NotebookText:
        """The searchable text of ``path`` at ``commit`` (cached by blob id, else commit + path)."""
        key = blob or f"{commit}:{path}"
        cached = self.texts.get(key)
        if cached is not None:
            return cached
        async with self._bodies:
            raw = await self._call(self.gitea.raw(experiment, path, commit))
            text = await asyncio.to_thread(notebook_text, raw or b"")
            del raw
        self.texts.put(key, text)
        return text

    def _known(self, experiment: str, folder: str, commits: list[dict[str, Any]]) -> dict[int, Any]:
        """Versions the index already holds for exactly these commits (runs in a thread): what a
        commit stored never changes, so only new versions are read from Gitea."""
        known: dict[int, Any] = {}
        count = len(commits)
        for i, c in enumerate(commits):
            found = self.index.notebook_version(experiment, folder, count - i)
            if found is not None and found[1]["commit"] == c["sha"]:
                known[count - i] = found[1]
        return known

    async def _versions(
        self,
        experiment: str,
        folder: str,
        commits: list[dict[str, Any]],
        read: Read,
    ) -> list[VersionRecord]:
        """One record per commit (newest first); ``read(commit)`` → (metadata, provenance) for a
        version the index does not hold yet."""
        known = await asyncio.to_thread(self._known, experiment, folder, commits)
        count = len(commits)

        async def version(i: int, c: dict[str, Any]) -> VersionRecord:
            number = count - i
            held = known.get(number)
            if held is not None:
                metadata, provenance = held["metadata"], held["provenance"]
            else:
                metadata, provenance = await read(c)
            return VersionRecord(
                version=number,
                commit=c["sha"],
                date=utc_iso(c["commit"]["committer"]["date"]),
                message=commit_message(c["commit"]["message"]),
                metadata=metadata,
                provenance=provenance,
            )

        return list(await asyncio.gather(*(version(i, c) for i, c in enumerate(commits))))

    async def _state_at(self, experiment: str, state_path: str, commit: str) -> dict[str, Any]:
        """The state file at ``commit``; an unreadable one is logged and read as empty."""
        raw = await self._call(self.gitea.raw(experiment, state_path, commit))
        try:
            state = json.loads(raw) if raw else {}
        except ValueError:
            state = None
        if not isinstance(state, dict):  # indexed with what is known, not the whole repo lost
            log.warning("unreadable state file", extra={"fields": {
                "experiment": experiment, "path": state_path, "commit": commit}})  # fmt: skip
            return {}
        return state

    async def _service_notebook(
        self, experiment: str, state_path: str, branch: str
    ) -> Entry | None:
        """A notebook the service archived, from its state file ``.evn/notebooks/<o>/<n>.json``."""
        owner, name = state_path[len(STATE_DIR) + 1 : -len(".json")].split("/")
        paths = NotebookPaths(owner, name)
        commits = await self._call(self.gitea.history(experiment, state_path, branch))
        if not commits:
            return None

        async def read(c: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
            state = await self._state_at(experiment, state_path, c["sha"])
            provenance = None
            if paths.provenance in state.get("files", {}):
                raw = await self._call(self.gitea.raw(experiment, paths.provenance, c["sha"]))
                provenance = json.loads(raw) if raw else None
            return dict(state.get("metadata") or {}), provenance

        latest = commits[0]["sha"]
        state, versions = await asyncio.gather(
            self._state_at(experiment, state_path, latest),
            self._versions(experiment, paths.folder, commits, read),
        )
        blob = state.get("files", {}).get(paths.notebook)
        text = await self._text(experiment, paths.notebook, latest, blob)
        record = _service_record(experiment, paths, state, len(commits), latest, versions[0].date)
        record.text = text.text
        return record, versions

    async def _legacy_notebook(
        self, experiment: str, path: str, name: str, branch: str
    ) -> Entry | None:
        """A notebook of the portal's old layout: a ``.ipynb`` at the repository's root."""
        commits = await self._call(self.gitea.history(experiment, path, branch))
        if not commits:
            return None

        async def read(c: dict[str, Any]) -> tuple[dict[str, Any], None]:
            text = await self._text(experiment, path, c["sha"])
            return {"title": text.heading or path}, None

        versions = await self._versions(experiment, path, commits, read)
        text = await self._text(experiment, path, commits[0]["sha"])
        record = NotebookRecord(
            experiment=experiment,
            owner=LEGACY_OWNER,
            name=name,
            folder=path,
            notebook_path=path,
            title=text.heading or path,
            description="",
            authors=[],
            license="",
            keywords=[],
            version=len(commits),
            commit=commits[0]["sha"],
            updated=versions[0].date,
            owner_sub=None,
            legacy=True,
            text=text.text,
        )
        return record, versions


def _state_files(tree: list[dict[str, Any]]) -> list[str]:
    """The state files ``.evn/notebooks/<owner>/<name>.json`` in a tree listing."""
    prefix = STATE_DIR + "/"
    return [
        e["path"]
        for e in tree
        if e.get("type") == "blob"
        and e["path"].startswith(prefix)
        and e["path"].endswith(".json")
        and e["path"].count("/") == STATE_DIR.count("/") + 2
    ]


def _settled(updated_at: str) -> str:
    """The mark recorded for a reindex: Gitea's ``updated_at``, unless it is so recent that a
    commit in the same second may be missing from what was read ("" makes the next reconcile
    look again)."""
    try:
        moment = datetime.fromisoformat(updated_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - moment).total_seconds()
    return updated_at if age > UNSETTLED_SECONDS else ""


def _legacy_files(tree: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The ``.ipynb`` files at the root of a tree and their names (the stem made a NotebookName;
    a name two files would share gets ``-2``, ``-3``… in path order)."""
    files = sorted(
        e["path"] for e in tree
        if e.get("type") == "blob" and "/" not in e["path"] and e["path"].lower().endswith(".ipynb")
    )  # fmt: skip
    taken: set[str] = set()
    found = []
    for path in files:
        try:
            base = name_from_title(path[: -len(".ipynb")])
        except RuleError:
            base = "notebook"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        found.append((path, name))
    return found


def _service_record(
    experiment: str,
    paths: NotebookPaths,
    state: dict[str, Any],
    count: int,
    latest: str,
    latest_date: str,
) -> NotebookRecord:
    """The index record of a service-archived notebook from its latest state file."""
    meta = state.get("metadata") or {}
    return NotebookRecord(
        experiment=experiment,
        owner=paths.owner,
        name=paths.name,
        folder=paths.folder,
        notebook_path=paths.notebook,
        title=str(meta.get("title") or paths.name),
        description=str(meta.get("description") or ""),
        authors=list(meta.get("authors") or []),
        license=str(meta.get("license") or ""),
        keywords=list(meta.get("keywords") or []),
        version=count,
        commit=latest,
        updated=str(state.get("updated") or latest_date),
        owner_sub=state.get("owner_sub"),
        legacy=False,
        text="",
    )
