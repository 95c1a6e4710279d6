"""Gitea → index: one repository at a time, the whole organisation, and after each commit.

The index is derived: every row is read back from Gitea (``reindex_repo``) or written right after
Gitea confirmed the commit it describes (``committed``), so it never runs ahead of Gitea. What a
missed webhook or a crash leaves behind, the next ``reconcile`` repairs: it reindexes every
repository whose ``updated_at`` in Gitea differs from what the index recorded for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .commitbody import git_blob_sha
from .config import ServiceConfig
from .contract import RuleError, experiment_code
from .errors import CatalogueUnavailable, GiteaResponseError
from .gitea import GiteaClient
from .index.experiments import iso
from .index.records import NotebookRecord, VersionRecord, utc_iso
from .locks import KeyedLocks
from .logs import log
from .notebooktext import notebook_text
from .reporead import RepoReader, commit_message

if TYPE_CHECKING:
    from .archive import Write
    from .catalogue import Catalogue, Observation
    from .index.store import Index

LEASE = "reconcile"
LEASE_SECONDS = 600.0  # renewed after every repository
SETTLE_SECONDS = 1.0  # a burst of webhooks for one repository becomes one reindex
CHECK_SECONDS = 2.0  # how often the loop looks for a deleted index file
REPOS_AT_ONCE = 3  # repositories a reconcile reads at once (their Gitea calls share one limit)
WRITTEN_KEPT = 4096  # commits this process wrote through, remembered for their webhooks


def observation_row(obs: Observation) -> tuple[dict[str, Any], str]:
    """What the index keeps of an observation: (the summaries' ``observation``, public_from)."""
    public_from = iso(obs.public_from)
    return {
        "targets": [{"name": t.name, "ra": t.ra, "dec": t.dec} for t in obs.targets],
        "public_from": public_from,
        "products": [{"did": p.did, "access_url": p.access_url} for p in obs.products],
    }, public_from


class Indexer:
    def __init__(
        self,
        config: ServiceConfig,
        gitea: GiteaClient,
        index: Index,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.gitea = gitea
        self.index = index
        self.catalogue = catalogue  # what the archive's catalogue says of each experiment
        self.clock = clock  # when "now" is, for the end of embargoes
        self.reader = RepoReader(config, gitea, index)
        self.rebuilding = False  # the reader answers 503 meanwhile
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # per repository: a reindex and the Archive's commit + write-through never interleave
        # (the Archive shares these locks), so a reindex that read Gitea just before a commit
        # cannot replace the rows that commit's write-through wrote
        self.locks = KeyedLocks()
        # repositories to reindex, in order, each with the commits its pushes announced
        # (None: a push that did not say, or one that must be read whatever it carried)
        self._pending: dict[str, set[str] | None] = {}
        # the commits this process's write-through indexed: a push of only these needs no read
        self._written: OrderedDict[str, None] = OrderedDict()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    async def reindex_repo(self, experiment: str) -> int:
        """Make ``experiment``'s rows exactly what its repository in Gitea holds now (none when
        the repository is gone); the number of notebooks indexed."""
        experiment = experiment.upper()
        started = time.perf_counter()
        async with self.locks.hold(experiment):
            repo = await self.reader.read(experiment)
            if repo is None:
                await asyncio.to_thread(self.index.replace_repo, experiment, [], "", "")
                return 0
            await asyncio.to_thread(
                self.index.replace_repo, experiment, repo.notebooks, repo.head, repo.updated
            )
        log.info(
            "reindexed",
            extra={"fields": {"experiment": experiment, "notebooks": len(repo.notebooks),
                              "versions": sum(len(v) for _, v in repo.notebooks),
                              "ms": round((time.perf_counter() - started) * 1000)}},
        )  # fmt: skip
        return len(repo.notebooks)

    # --- write-through -----------------------------------------------------------------------

    async def committed(self, write: Write, record: dict[str, Any], commit: dict[str, Any]) -> None:
        """Index the version the Archive has just committed (``commit``: Gitea's answer about it).

        Raises what the index raises: the Archive logs it, and the reconcile repairs the row.
        """
        paths, sub = write.paths, write.sub
        text = sub.text
        if text is None:  # a submission parsed elsewhere (the parse keeps it otherwise)
            text = await asyncio.to_thread(notebook_text, sub.notebook)
        version = VersionRecord(
            version=int(record["version"]),
            commit=str(commit["sha"]),
            date=utc_iso(str((commit.get("committer") or {}).get("date") or record["created"])),
            message=commit_message(str(commit.get("message") or "")),
            metadata=sub.metadata,
            provenance=json.loads(sub.provenance) if sub.provenance is not None else None,
        )
        if write.observation is not None:  # first: the embargo holds before the notebook shows
            observation, public_from = observation_row(write.observation)
            await asyncio.to_thread(
                self.index.put_experiment, write.experiment, observation, public_from
            )
        meta = sub.metadata
        notebook = NotebookRecord(
            experiment=write.experiment,
            owner=paths.owner,
            name=paths.name,
            folder=paths.folder,
            notebook_path=paths.notebook,
            title=meta["title"],
            description=meta.get("description", ""),
            authors=list(meta.get("authors") or []),
            license=meta.get("license", ""),
            keywords=list(meta.get("keywords") or []),
            version=version.version,
            commit=version.commit,
            updated=record["created"],
            owner_sub=write.identity.sub,
            legacy=False,
            text=text.text,
        )
        await asyncio.to_thread(self.index.put_version, notebook, version)
        self._written[version.commit] = None  # its webhook has nothing new to tell
        # a later reindex of the repository (a commit made past the service, the reconcile)
        # takes this text by the notebook's blob id instead of reading and parsing the notebook
        # again: for a 20 MB notebook that was 40 MB or more, beside whatever else ran
        self.reader.texts.put(await asyncio.to_thread(git_blob_sha, sub.notebook), text)
        while len(self._written) > WRITTEN_KEPT:
            self._written.popitem(last=False)

    # --- webhooks ------------------------------------------------------------------------------

    def schedule(self, repo: str) -> None:
        """Reindex ``repo`` soon; any number of calls before the reindex starts make one."""
        self.pushed(repo, None)

    def pushed(self, repo: str, commits: Iterable[str] | None) -> None:
        """A push announced by Gitea's webhook, with the commits it carried (None: unknown).
        A push of only commits this process wrote through is not read again (each submission
        used to cost a read of its whole repository, under its lock, a second after the
        commit); whether it is, is decided when the reindex would start, so a webhook that
        arrives before the write-through is done is still recognised."""
        repo = repo.upper()
        if repo in self._pending and self._pending[repo] is None:
            return
        known = self._pending.get(repo) or set()
        self._pending[repo] = None if commits is None else known | set(commits)
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(SETTLE_SECONDS)
            self._wake.clear()
            while self._pending:
                repo = next(iter(self._pending))
                commits = self._pending.pop(repo)  # a push from now on schedules it again
                if commits and all(c in self._written for c in commits):
                    log.info("push already indexed", extra={"fields": {"experiment": repo}})
                    continue  # the write-through indexed these commits
                await self._guarded(self.reindex_repo(repo), "reindex", repo)

    @staticmethod
    async def _guarded(job: Awaitable[Any], what: str, repo: str = "") -> bool:
        """Run a background step; a failure is logged (the next reconcile tries again)."""
        try:
            await job
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.warning(
                "%s failed: %s", what, getattr(e, "message", None) or repr(e),
                extra={"fields": {"experiment": repo}} if repo else None,
            )  # fmt: skip
            return False
        return True

    # --- the organisation ----------------------------------------------------------------------

    def _experiments(self, repos: Iterable[dict[str, Any]]) -> dict[str, str]:
        """Repositories named like experiments → their ``updated_at``."""
        found = {}
        pattern = self.config.experiment_regex()
        for repo in repos:
            try:
                found[experiment_code(str(repo["name"]), pattern)] = str(repo.get("updated_at", ""))
            except RuleError:
                continue
        return found

    async def reconcile(self) -> dict[str, int] | None:
        """Under the lease: reindex what changed in Gitea since the index last saw it, drop what
        vanished; None when another replica holds the lease."""
        lease = self.index.try_lease
        if not await asyncio.to_thread(lease, LEASE, self.holder, LEASE_SECONDS):
            log.info("reconcile skipped: another replica is reconciling")
            return None
        try:
            return await self._sync(everything=False, renew=True)
        finally:
            await asyncio.to_thread(self.index.release_lease, LEASE, self.holder)

    async def _sync(self, *, everything: bool, renew: bool) -> dict[str, int]:
        listing = await self.gitea.org_repositories()
        # the catalogue first: an embargo is recorded before a new repository's notebooks show
        await self._guarded(self.refresh_experiments(listing), "catalogue refresh")
        repos = self._experiments(listing)
        marks = await asyncio.to_thread(self.index.repo_marks)
        stale = [e for e, updated in sorted(repos.items())
                 if everything or marks.get(e, ("", None))[1] != updated]  # fmt: skip
        # a vanished repository's rows were replaced by nothing, its mark by ("", "")
        gone = sorted(e for e, mark in marks.items() if e not in repos and mark != ("", ""))
        gate = asyncio.Semaphore(REPOS_AT_ONCE)

        async def one(experiment: str) -> bool:
            async with gate:
                done = await self._guarded(self.reindex_repo(experiment), "reindex", experiment)
                if renew:
                    await asyncio.to_thread(self.index.try_lease, LEASE, self.holder, LEASE_SECONDS)
                return done

        failed = sum(not ok for ok in await asyncio.gather(*(one(e) for e in stale + gone)))
        result = {"repositories": len(repos), "reindexed": len(stale) + len(gone) - failed,
                  "failed": failed}  # fmt: skip
        if stale or gone:
            log.info("reconciled", extra={"fields": result})
        return result

    async def rebuild(self) -> dict[str, int]:
        """Index everything again into an empty (or recreated) index, lease or not (the index is
        useless until then); this process's reads answer 503 meanwhile."""
        self.rebuilding = True
        try:
            await asyncio.to_thread(self.index.dispose)
            await asyncio.to_thread(self.index.migrate)
            await asyncio.to_thread(self.index.clear)
            return await self._sync(everything=True, renew=False)
        finally:
            self.rebuilding = False

    async def run(self) -> None:
        """The background loop of a serving process: reconcile every ``reconcile_seconds``,
        release the embargoes that have ended every ``release_interval_seconds`` (each never
        when 0), and rebuild the index when its file was deleted."""
        interval = self.config.reconcile_seconds
        every = float(getattr(self.config, "release_interval_seconds", 300))
        due = time.monotonic() if interval else float("inf")
        release = time.monotonic() if every else float("inf")
        while True:
            if await asyncio.to_thread(self.index.missing):
                log.warning("the index is missing: rebuilding it from Gitea")
                await self._guarded(self.rebuild(), "rebuild")
            elif time.monotonic() >= due:
                await self._guarded(self.reconcile(), "reconcile")
                due = time.monotonic() + interval
            elif time.monotonic() >= release:
                await self._guarded(self.release_due(), "release of embargoes")
                release = time.monotonic() + every
            await asyncio.sleep(min(CHECK_SECONDS, interval or CHECK_SECONDS))

    # --- the catalogue and the embargo ---------------------------------------------------------

    async def refresh_experiments(self, listing: Iterable[dict[str, Any]]) -> int:
        """Record what the catalogue says of each repository's experiment it knows (its
        answers are cached); stops at the first it cannot answer. The number recorded."""
        catalogue = self.catalogue
        if catalogue is None or not catalogue.enabled:
            return 0
        now = iso(self.clock())
        done = 0
        for repo in listing:
            code = str(repo.get("name", "")).upper()
            if not catalogue.applies(code):
                continue
            try:
                found = await catalogue.observation(code)
            except CatalogueUnavailable as e:
                log.warning("catalogue refresh stopped: %s", e.message)
                break
            if found is None:
                continue
            observation, public_from = observation_row(found)
            # a public repository whose data are public needs no release
            released = True if not repo.get("private") and public_from <= now else None
            await asyncio.to_thread(
                self.index.put_experiment, code, observation, public_from, released=released
            )
            done += 1
        return done

    async def release_due(self, now: float | datetime | None = None) -> list[str] | None:
        """Under the lease: make public the repository of every experiment whose embargo has
        ended at ``now`` (the clock's time when None), and record it; idempotent. The
        experiments released; None when another replica holds the lease."""
        lease = self.index.try_lease
        if not await asyncio.to_thread(lease, LEASE, self.holder, LEASE_SECONDS):
            return None
        try:
            moment = iso(self.clock() if now is None else now)
            due = await asyncio.to_thread(self.index.due_experiments, moment)
            return [code for code in due if await self._release(code)]
        finally:
            await asyncio.to_thread(self.index.release_lease, LEASE, self.holder)

    async def _release(self, code: str) -> bool:
        """Make ``code``'s repository public, then record it; a repository that is gone has
        nothing to release (recorded too); another failure is logged and tried next time."""
        fields = {"experiment": code}
        try:
            await self.gitea.set_private(code, False)
        except GiteaResponseError as e:
            if e.gitea_status != 404:
                log.warning("release failed: %s", e.message, extra={"fields": fields})
                return False
            log.warning("release: no repository %s in Gitea; nothing to release", code)
        await asyncio.to_thread(self.index.mark_released, code)
        log.info("embargo ended: repository made public", extra={"fields": fields})
        return True

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
