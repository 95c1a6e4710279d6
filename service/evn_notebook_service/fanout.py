"""The read side as it was before the archive index: every read fans out over Gitea's API.

Kept only for ``benchmarks/``, which compares it with the index (``reader.py``); the service
itself never uses it. Listing an experiment costs 1 + owners + 2 x notebooks Gitea calls, a
researcher's submissions the same over every repository of the organisation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .config import ServiceConfig
from .errors import NotFound
from .gitea import GiteaClient
from .layout import STATE_DIR, NotebookPaths, permalink

T = TypeVar("T")
PAGE = 50
FANOUT = 8


async def _bounded(jobs: list[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(FANOUT)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(j) for j in jobs)))


class FanoutReader:
    """Reads straight from Gitea (the answers of ``reader.Reader``, unpaged; no legacy entries)."""

    def __init__(self, config: ServiceConfig, gitea: GiteaClient) -> None:
        self.config = config
        self.gitea = gitea

    def _link(self, experiment: str, commit: str, path: str) -> str:
        cfg = self.config
        return permalink(cfg.public_gitea_url, cfg.gitea_org, experiment, commit, path)

    async def _state(self, experiment: str, paths: NotebookPaths, ref: str | None = None) -> Any:
        raw = await self.gitea.raw(experiment, paths.state, ref)
        if raw is None:
            raise NotFound(f"{paths.folder} is not archived in {experiment}")
        return json.loads(raw)

    async def _summary(self, experiment: str, owner: str, name: str) -> dict[str, Any]:
        """The latest version's summary; ``_owner_sub`` is for filtering and is removed later."""
        paths = NotebookPaths(owner, name)
        state, (commits, _) = await asyncio.gather(
            self._state(experiment, paths), self.gitea.commits(experiment, paths.state, limit=1)
        )
        commit = commits[0]["sha"] if commits else ""
        meta = state["metadata"]
        return {
            "experiment": experiment,
            "owner": owner,
            "name": name,
            "folder": paths.folder,
            "title": meta["title"],
            "description": meta["description"],
            "authors": meta["authors"],
            "license": meta["license"],
            "keywords": meta["keywords"],
            "version": state["version"],
            "commit": commit,
            "updated": state["updated"],
            "permalink": self._link(experiment, commit, paths.notebook),
            "legacy": False,
            "_owner_sub": state.get("owner_sub"),
        }

    async def _owners_notebooks(self, experiment: str, owner: str) -> list[tuple[str, str]]:
        entries = await self.gitea.list_dir(experiment, f"{STATE_DIR}/{owner}")
        return [
            (owner, e["name"][: -len(".json")])
            for e in entries
            if e.get("type") == "file" and e.get("name", "").endswith(".json")
        ]

    async def experiment_notebooks(self, experiment: str) -> list[dict[str, Any]]:
        await self.gitea.require_repo(experiment)
        owners = [e["name"] for e in await self.gitea.list_dir(experiment, STATE_DIR)
                  if e.get("type") == "dir"]  # fmt: skip
        found = await _bounded(
            [lambda o=o: self._owners_notebooks(experiment, o) for o in owners]  # type: ignore[misc]
        )
        pairs = sorted(p for group in found for p in group)
        summaries = await _bounded(
            [lambda p=p: self._summary(experiment, *p) for p in pairs]  # type: ignore[misc]
        )
        for summary in summaries:
            summary.pop("_owner_sub")
        return summaries

    async def submissions_of(self, sub: str, username: str) -> list[dict[str, Any]]:
        """Every notebook the researcher ``sub`` owns, across the organisation's repositories."""
        repos = await self.gitea.org_repos()
        found = await _bounded(
            [lambda r=r: self._owners_notebooks(r, username) for r in repos]  # type: ignore[misc]
        )
        pairs = [
            (repo, owner, name)
            for repo, group in zip(repos, found, strict=True)
            for owner, name in group
        ]
        summaries = await _bounded(
            [lambda p=p: self._summary(*p) for p in pairs]  # type: ignore[misc]
        )
        mine = [s for s in summaries if s.pop("_owner_sub") == sub]
        return sorted(mine, key=lambda s: s["updated"], reverse=True)

    async def versions(self, experiment: str, owner: str, name: str) -> list[dict[str, Any]]:
        paths = NotebookPaths(owner, name)
        commits: list[dict[str, Any]] = []
        page, total = 1, None
        while total is None or len(commits) < total:
            batch, total = await self.gitea.commits(experiment, paths.state, page=page, limit=PAGE)
            if not batch:
                break
            commits += batch
            page += 1
        if not commits:
            raise NotFound(f"{paths.folder} is not archived in {experiment}")
        count = len(commits)
        return [
            {
                "version": count - i,
                "commit": c["sha"],
                "date": c["commit"]["committer"]["date"],
                "message": c["commit"]["message"].split("\n\nExperiment: ")[0],
                "permalink": self._link(experiment, c["sha"], paths.notebook),
            }
            for i, c in enumerate(commits)
        ]

    async def _commit_of_version(self, experiment: str, paths: NotebookPaths, version: int) -> str:
        _, total = await self.gitea.commits(experiment, paths.state, limit=1)
        if total == 0:
            raise NotFound(f"{paths.folder} is not archived in {experiment}")
        if not 1 <= version <= total:
            raise NotFound(f"{paths.folder} has versions 1 to {total}, not {version}")
        index = total - version  # newest first
        batch, _ = await self.gitea.commits(
            experiment, paths.state, page=index // PAGE + 1, limit=PAGE
        )
        return str(batch[index % PAGE]["sha"])

    async def notebook(
        self, experiment: str, owner: str, name: str, version: int | None
    ) -> tuple[dict[str, Any], bytes]:
        """The version's metadata and provenance, and the notebook's stored JSON bytes."""
        paths = NotebookPaths(owner, name)
        if version is None:
            commits, _ = await self.gitea.commits(experiment, paths.state, limit=1)
            if not commits:
                raise NotFound(f"{paths.folder} is not archived in {experiment}")
            commit = commits[0]["sha"]
        else:
            commit = await self._commit_of_version(experiment, paths, version)
        state, notebook, provenance = await asyncio.gather(
            self._state(experiment, paths, commit),
            self.gitea.raw(experiment, paths.notebook, commit),
            self.gitea.raw(experiment, paths.provenance, commit),
        )
        if notebook is None:
            raise NotFound(f"{paths.notebook} is missing at {commit}")
        return {
            "experiment": experiment,
            "owner": owner,
            "name": name,
            "metadata": state["metadata"],
            "provenance": json.loads(provenance) if provenance else None,
            "version": state["version"],
            "commit": commit,
            "updated": state["updated"],
            "permalink": self._link(experiment, commit, paths.notebook),
            "legacy": False,
        }, notebook
