"""The write side of the archive: one commit per submission, idempotent, safe across replicas.

Every submission commits, in one commit through Gitea's contents API, the notebook, its
``ro-crate-metadata.json``, its provenance, the notebook's state file (owner, version, blob ids)
and an idempotency record ``.evn/idempotency/<h[:2]>/<h>.json`` (``idempotency.py``). As it is
*created* in that same commit, a second writer of the same key (another replica, a retry) fails
with "already exists" and then finds and returns the first result. Updates carry the blob ids
read just before, so a concurrent change turns into a "sha does not match" answer and a retry.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .auth import Identity
from .catalogue import iso
from .citation import citation_file
from .commitbody import CommitBody, FileChange, build_body, git_blob_sha
from .config import ServiceConfig
from .errors import Forbidden, GiteaResponseError, NotFound, ServiceError, UpstreamUnavailable
from .fetch import within
from .gitea import GiteaClient
from .idempotency import Slot
from .layout import PROVENANCE, NotebookPaths, permalink
from .locks import KeyedLocks
from .logs import log
from .quota import Clock, Quotas, Ticket
from .repos import Repositories
from .rocrate import build_crate
from .submission import Submission, dump_json

if TYPE_CHECKING:
    from .catalogue import Catalogue, Observation
    from .indexer import Indexer

BACKOFF_FIRST = 0.05
BACKOFF_MAX = 2.0
MAX_SERVER_ERRORS = 5


def _retryable(e: GiteaResponseError) -> bool:
    """A write that lost a race: re-read and try again (the idempotency record makes it safe).

    Gitea reports lost races as 403 "cannot lock ref", 422 "sha does not match" / "already
    exists", 409, or 500 with an empty message (a rejected non-fast-forward push, "PushOutOfDate"
    in its log). A 500 may also be a real fault: those are retried only a few times.
    """
    return (
        e.is_ref_lock_conflict
        or e.is_sha_mismatch
        or e.is_already_exists
        or e.gitea_status in (409, 500)
    )


class Conflict(ServiceError):
    status = 409


@dataclass(frozen=True)
class Write:
    """One submission on its way into an experiment's repository."""

    identity: Identity
    experiment: str
    paths: NotebookPaths
    sub: Submission
    idem: Slot  # the idempotency record's place, and what the latest attempt found there
    must_exist: bool
    ticket: Ticket  # its places in the researcher's abuse limits (``quota.py``)
    # what the catalogue knows of the experiment (docs/catalogue.md); None: no catalogue
    observation: Observation | None = None


class RetryPolicy:
    """When a write that lost a race is tried again, and how long to wait before it.

    Exponential backoff with full jitter (``BACKOFF_FIRST`` doubling up to ``BACKOFF_MAX``) until
    ``deadline_seconds`` have passed, then 503; at most ``MAX_SERVER_ERRORS`` of Gitea's 5xx.
    """

    def __init__(self, experiment: str, deadline_seconds: float) -> None:
        self.experiment = experiment
        self.deadline = time.monotonic() + deadline_seconds
        self.server_errors = 0

    def delay(self, e: GiteaResponseError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt; None when ``e`` is not to be retried."""
        self.server_errors += e.gitea_status >= 500
        missing_repo = e.gitea_status == 404  # a repository still being created, or deleted
        if not missing_repo and (not _retryable(e) or self.server_errors > MAX_SERVER_ERRORS):
            return None
        if time.monotonic() > self.deadline:
            raise UpstreamUnavailable(
                f"the archive of {self.experiment} is too busy right now; retry with the "
                "same Idempotency-Key"
            ) from e
        delay = random.uniform(0, min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt))  # noqa: S311
        log.info(
            "write conflict, retrying",
            extra={"fields": {"attempt": attempt, "delay": round(delay, 3),
                              "gitea_status": e.gitea_status,
                              "gitea": e.gitea_message[:120]}},
        )  # fmt: skip
        return delay


class Archive:
    def __init__(
        self,
        config: ServiceConfig,
        gitea: GiteaClient,
        indexer: Indexer | None = None,
        *,
        clock: Clock | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.config = config
        self.catalogue = catalogue  # asked before anything is written (docs/catalogue.md)
        self.quotas = Quotas(config, clock) if clock else Quotas(config)
        self.gitea = gitea
        self.indexer = indexer  # told of every commit, after Gitea confirmed it
        # one writer per repository in this process; shared with the indexer's reindexes
        self.locks = indexer.locks if indexer is not None else KeyedLocks()
        self.repos = Repositories(config, gitea)

    def result(
        self,
        record: dict[str, Any],
        commit: str,
        created: bool,
        observation: Observation | None = None,
    ) -> dict[str, Any]:
        """The answer to a submission; ``public_from`` is null unless the experiment's data
        (and so the notebook) are still proprietary."""
        paths = NotebookPaths(record["owner"], record["name"])
        now = datetime.now(timezone.utc)
        hidden = observation is not None and not observation.public(now)
        return {
            "experiment": record["experiment"],
            "name": record["name"],
            "folder": paths.folder,
            "version": record["version"],
            "commit": commit,
            "permalink": permalink(
                self.config.public_gitea_url,
                self.config.gitea_org,
                record["experiment"],
                commit,
                paths.notebook,
            ),
            "submitter": record["submitter"],
            "created": created,
            "observation": observation.as_json(now) if observation is not None else None,
            "public_from": iso(observation.public_from) if hidden and observation else None,
        }

    async def _replay(self, write: Write, path: str, raw: bytes) -> dict[str, Any]:
        repo = write.experiment
        record = json.loads(raw)
        if record.get("fingerprint") != write.sub.fingerprint:
            raise Conflict(
                "this Idempotency-Key was already used for a different submission; "
                "use a new key for a new submission"
            )
        commits, _ = await self.gitea.commits(repo, path, limit=1)
        if not commits:
            raise UpstreamUnavailable("the archive is settling; retry with the same key")
        return self.result(record, commits[0]["sha"], False, write.observation)

    async def submit(
        self,
        identity: Identity,
        experiment: str,
        owner: str,
        sub: Submission,
        key: str,
        *,
        must_exist: bool = False,
    ) -> dict[str, Any]:
        """Commit ``sub``; the answer of the first commit for this key (``created`` tells which).

        ``owner`` is the folder's owner as addressed; only that researcher may write to it.
        ``must_exist``: a new version of an existing notebook, never a new folder.
        """
        if owner != identity.username:
            raise Forbidden(
                f"{owner}/{sub.name} belongs to {owner}; only its owner can submit new versions"
            )
        # before anything is written or counted: 404 for a code the catalogue does not know
        observation = await self.catalogue.require(experiment) if self.catalogue else None
        paths = NotebookPaths(owner, sub.name)
        ticket = self.quotas.ticket(identity.sub)
        idem = Slot.of(identity.sub, key)
        write = Write(identity, experiment, paths, sub, idem, must_exist, ticket, observation)
        try:
            result = await self._write(write)
        except BaseException:
            ticket.release("submission")  # a created repository stays counted
            raise
        if not result["created"]:
            ticket.release("submission")  # a replay is not counted
        return result

    async def _write(self, write: Write) -> dict[str, Any]:
        """Attempt after attempt until one commits or replays, or the retry policy gives up.

        The experiment's lock is held for one attempt at a time (first come, first served): a
        back-off sleeps without it, so another submission to the experiment goes ahead
        meanwhile. Every wait, for the lock as for a connection to Gitea, ends at the
        submission's deadline (``write_deadline_seconds``) with a 503 and nothing written.
        """
        retry = RetryPolicy(write.experiment, self.config.write_deadline_seconds)
        attempt = 0
        with within(retry.deadline):
            while True:
                attempt += 1
                outcome = await self._locked_attempt(write, retry, attempt)
                if not isinstance(outcome, float):
                    return outcome
                await asyncio.sleep(outcome)  # the lock released, the failed body unreferenced

    async def _locked_attempt(
        self, write: Write, retry: RetryPolicy, attempt: int
    ) -> dict[str, Any] | float:
        """One attempt holding the experiment's lock: its result, or the back-off before the
        next attempt (a lost race); any other failure raises."""
        async with self.locks.hold(write.experiment, retry.deadline):
            if attempt == 1:
                await self.repos.ensure(write)
            try:
                return await self._attempt(write, attempt)
            except GiteaResponseError as e:
                if e.gitea_status == 404:
                    self.repos.forget(write.experiment)
                    await self.repos.ensure(write)
                delay = retry.delay(e, attempt)
                if delay is None:
                    raise
        return delay

    async def _attempt(self, write: Write, attempt: int) -> dict[str, Any]:
        """Read the idempotency record and the state, then one commit (a lost race raises)."""
        experiment, paths = write.experiment, write.paths
        # one round trip, not two: the state is read beside the record (wasted on a replay only)
        found, state_raw = await asyncio.gather(
            write.idem.lookup(self.gitea, experiment, self.config.idempotency_days),
            self.gitea.raw(experiment, paths.state),
        )
        if found is not None and not found.expired:
            return await self._replay(write, found.path, found.raw)
        state = json.loads(state_raw) if state_raw else None
        if state is not None and state.get("owner_sub") != write.identity.sub:
            raise Forbidden(
                f"{paths.folder} in {experiment} belongs to another researcher; "
                "submit under another name"
            )
        if state is None and write.must_exist:
            raise NotFound(f"{paths.folder} is not archived in {experiment}")
        write.ticket.reserve()  # not a replay: a submission (429 beyond the limit)
        record, body = await asyncio.to_thread(self._commit_body, write, state, state_raw)
        answer = await self.gitea.change_files(experiment, body)
        commit = answer["commit"]["sha"]
        log.info(
            "committed",
            extra={"fields": {"experiment": experiment, "folder": paths.folder,
                              "version": record["version"], "commit": commit,
                              "attempts": attempt}},
        )  # fmt: skip
        await self._index(write, record, answer["commit"])
        return self.result(record, commit, True, write.observation)

    async def _index(self, write: Write, record: dict[str, Any], commit: dict[str, Any]) -> None:
        """Write-through into the index; a failure never fails the committed submission (the
        reconcile repairs the index from Gitea)."""
        if self.indexer is None:
            return
        try:
            await self.indexer.committed(write, record, commit)
        except Exception as e:  # any failure of the index: the commit stands
            log.warning(
                "index write-through failed; the next reconcile repairs it: %s", repr(e)[:300],
                extra={"fields": {"experiment": write.experiment, "folder": write.paths.folder}},
            )  # fmt: skip

    def _commit_body(
        self, write: Write, state: dict[str, Any] | None, state_raw: bytes | None
    ) -> tuple[dict[str, Any], CommitBody]:
        """The idempotency record and the contents-API body of the one commit of ``write``
        (streamed: the files' base64 is computed as the body is sent)."""
        version = (int(state["version"]) + 1) if state else 1
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        contents = _folder_files(write, version, now, self.config)
        record = _record(write, version, now)
        changes = write.idem.changes(dump_json(record))  # create, or replace an expired one
        changes += _folder_changes(write, contents, (state or {}).get("files", {}))
        state_bytes = dump_json(_state(write, version, now, contents))
        if state_raw is None:
            changes.append(FileChange("create", write.paths.state, state_bytes))
        else:
            changes.append(
                FileChange("update", write.paths.state, state_bytes, git_blob_sha(state_raw))
            )
        identity = write.identity
        body = build_body(
            branch=self.config.gitea_branch,
            message=_commit_message(write, version),
            author={"name": identity.name, "email": identity.email},
            committer={"name": self.config.committer_name, "email": self.config.committer_email},
            files=changes,
        )
        return record, body


def _folder_files(write: Write, version: int, now: str, config: ServiceConfig) -> dict[str, bytes]:
    """The notebook's folder as this version stores it: notebook, RO-Crate, CITATION.cff,
    provenance. A file the state's ``files`` lacks (CITATION.cff of a notebook archived before
    it existed) is created, the others updated (``_folder_changes``)."""
    paths, sub = write.paths, write.sub
    crate = build_crate(
        experiment=write.experiment,
        notebook_file=paths.notebook.rsplit("/", 1)[1],
        notebook=sub.notebook,
        metadata=sub.metadata,
        submitter=write.identity.as_submitter(),
        version=version,
        date=now,
        language=sub.kernel_language,
        provenance_file=PROVENANCE if sub.provenance is not None else None,
        observation=write.observation,
    )
    contents = {paths.notebook: sub.notebook, paths.crate: dump_json(crate)}
    path, cff = citation_file(
        config, write.experiment, paths, sub.metadata, version, now, write.observation
    )
    contents[path] = cff
    if sub.provenance is not None:
        contents[paths.provenance] = sub.provenance
    return contents


def _folder_changes(
    write: Write, contents: dict[str, bytes], old: dict[str, str]
) -> list[FileChange]:
    """Create or update each file (``old``: the blob ids the state file recorded); drop a
    provenance the new version does not have."""
    changes = []
    for path, data in contents.items():
        if path in old:
            changes.append(FileChange("update", path, data, old[path]))
        else:
            changes.append(FileChange("create", path, data))
    provenance = write.paths.provenance
    if write.sub.provenance is None and provenance in old:
        changes.append(FileChange("delete", provenance, sha=old[provenance]))
    return changes


def _state(write: Write, version: int, now: str, contents: dict[str, bytes]) -> dict[str, Any]:
    """The service's bookkeeping of the notebook (``.evn/notebooks/<owner>/<name>.json``)."""
    return {
        "experiment": write.experiment,
        "owner": write.paths.owner,
        "owner_sub": write.identity.sub,
        "name": write.paths.name,
        "version": version,
        "updated": now,
        "metadata": write.sub.metadata,
        "message": write.sub.message,
        "files": {path: git_blob_sha(data) for path, data in contents.items()},
    }


def _record(write: Write, version: int, now: str) -> dict[str, Any]:
    """The idempotency record: what a replay of the same key answers."""
    return {
        "experiment": write.experiment,
        "owner": write.paths.owner,
        "name": write.paths.name,
        "version": version,
        "submitter": write.identity.as_submitter(),
        "fingerprint": write.sub.fingerprint,
        "created": now,
    }


def _commit_message(write: Write, version: int) -> str:
    message = write.sub.message or f"Submit {write.paths.folder} version {version}"
    return message + (
        f"\n\nExperiment: {write.experiment}\nVersion: {version}\n"
        f"Submitted-by: {write.paths.owner}\n"
    )
