"""The write side of the archive: one commit per submission, idempotent, safe across replicas.

Every submission commits, in one commit through Gitea's contents API, the notebook, its
``ro-crate-metadata.json``, its provenance, the notebook's state file (owner, version, blob ids)
and an idempotency record ``.evn/idempotency/<sha256(sub:key)>.json``. Because the record is
*created* in that same commit, a second writer of the same key (another replica, a retry) fails
with "already exists" and then finds and returns the first result. Updates carry the blob ids
read just before, so a concurrent change turns into a "sha does not match" answer and a retry.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import datetime, timezone
from typing import Any

from .auth import Identity
from .commitbody import FileChange, build_body, git_blob_sha
from .config import ServiceConfig
from .errors import Forbidden, GiteaResponseError, NotFound, ServiceError, UpstreamUnavailable
from .gitea import GiteaClient
from .layout import NotebookPaths, idempotency_path, permalink
from .locks import KeyedLocks
from .logs import log
from .rocrate import build_crate
from .submission import Submission, dump_json

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


class Archive:
    def __init__(self, config: ServiceConfig, gitea: GiteaClient) -> None:
        self.config = config
        self.gitea = gitea
        self.locks = KeyedLocks()
        self._known_repos: set[str] = set()
        self.stats = {"commits": 0, "conflict_retries": 0, "replays": 0}

    async def ensure_repo(self, repo: str) -> None:
        if repo in self._known_repos:
            return
        if not await self.gitea.repo_exists(repo):
            if not self.config.create_repos:
                raise NotFound(
                    f"experiment {repo} has no archive repository and this service does not "
                    "create them; ask the archive operator"
                )
            await self.gitea.create_repo(repo, f"Notebooks archived for EVN experiment {repo}")
            log.info("created repository", extra={"fields": {"experiment": repo}})
        self._known_repos.add(repo)

    def result(self, record: dict[str, Any], commit: str, created: bool) -> dict[str, Any]:
        paths = NotebookPaths(record["owner"], record["name"])
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
        }

    async def _replay(self, repo: str, path: str, raw: bytes, fingerprint: str) -> dict[str, Any]:
        record = json.loads(raw)
        if record.get("fingerprint") != fingerprint:
            raise Conflict(
                "this Idempotency-Key was already used for a different submission; "
                "use a new key for a new submission"
            )
        commits, _ = await self.gitea.commits(repo, path, limit=1)
        if not commits:
            raise UpstreamUnavailable("the archive is settling; retry with the same key")
        self.stats["replays"] += 1
        return self.result(record, commits[0]["sha"], created=False)

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
        paths = NotebookPaths(owner, sub.name)
        idem_path = idempotency_path(identity.sub, key)
        deadline = time.monotonic() + self.config.write_deadline_seconds
        attempt = failures = 0
        async with self.locks.hold(experiment):
            await self.ensure_repo(experiment)
            while True:
                attempt += 1
                existing = await self.gitea.raw(experiment, idem_path)
                if existing is not None:
                    return await self._replay(experiment, idem_path, existing, sub.fingerprint)
                state_raw = await self.gitea.raw(experiment, paths.state)
                state = json.loads(state_raw) if state_raw else None
                if state is not None and state.get("owner_sub") != identity.sub:
                    raise Forbidden(
                        f"{paths.folder} in {experiment} belongs to another researcher; "
                        "submit under another name"
                    )
                if state is None and must_exist:
                    raise NotFound(f"{paths.folder} is not archived in {experiment}")
                record, body = await asyncio.to_thread(
                    self._commit_body, identity, experiment, paths, sub, state, state_raw, idem_path
                )
                try:
                    answer = await self.gitea.change_files(experiment, body)
                except GiteaResponseError as e:
                    del body
                    failures += e.gitea_status >= 500
                    if e.gitea_status == 404:  # a repository still being created, or deleted
                        self._known_repos.discard(experiment)
                        await self.ensure_repo(experiment)
                    elif not _retryable(e) or failures > MAX_SERVER_ERRORS:
                        raise
                    if time.monotonic() > deadline:
                        raise UpstreamUnavailable(
                            f"the archive of {experiment} is too busy right now; retry with the "
                            "same Idempotency-Key"
                        ) from e
                    self.stats["conflict_retries"] += 1
                    delay = random.uniform(0, min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt))  # noqa: S311
                    log.info(
                        "write conflict, retrying",
                        extra={"fields": {"attempt": attempt, "delay": round(delay, 3),
                                          "gitea_status": e.gitea_status,
                                          "gitea": e.gitea_message[:120]}},
                    )  # fmt: skip
                    await asyncio.sleep(delay)
                    continue
                self.stats["commits"] += 1
                commit = answer["commit"]["sha"]
                log.info(
                    "committed",
                    extra={"fields": {"experiment": experiment, "folder": paths.folder,
                                      "version": record["version"], "commit": commit,
                                      "attempts": attempt}},
                )  # fmt: skip
                return self.result(record, commit, created=True)

    def _commit_body(
        self,
        identity: Identity,
        experiment: str,
        paths: NotebookPaths,
        sub: Submission,
        state: dict[str, Any] | None,
        state_raw: bytes | None,
        idem_path: str,
    ) -> tuple[dict[str, Any], bytearray]:
        version = (int(state["version"]) + 1) if state else 1
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        old = (state or {}).get("files", {})
        crate = dump_json(
            build_crate(
                experiment=experiment,
                notebook_file=paths.notebook.rsplit("/", 1)[1],
                notebook=sub.notebook,
                metadata=sub.metadata,
                submitter=identity.as_submitter(),
                version=version,
                date=now,
                language=sub.kernel_language,
                provenance_file="provenance.json" if sub.provenance is not None else None,
            )
        )
        contents = {paths.notebook: sub.notebook, paths.crate: crate}
        if sub.provenance is not None:
            contents[paths.provenance] = sub.provenance
        changes = [FileChange("create", idem_path)]  # content filled in below
        for path, data in contents.items():
            if path in old:
                changes.append(FileChange("update", path, data, old[path]))
            else:
                changes.append(FileChange("create", path, data))
        if sub.provenance is None and paths.provenance in old:
            changes.append(FileChange("delete", paths.provenance, sha=old[paths.provenance]))
        new_state = {
            "experiment": experiment,
            "owner": paths.owner,
            "owner_sub": identity.sub,
            "name": paths.name,
            "version": version,
            "updated": now,
            "metadata": sub.metadata,
            "message": sub.message,
            "files": {path: git_blob_sha(data) for path, data in contents.items()},
        }
        state_bytes = dump_json(new_state)
        if state_raw is None:
            changes.append(FileChange("create", paths.state, state_bytes))
        else:
            changes.append(FileChange("update", paths.state, state_bytes, git_blob_sha(state_raw)))
        record = {
            "experiment": experiment,
            "owner": paths.owner,
            "name": paths.name,
            "version": version,
            "submitter": identity.as_submitter(),
            "fingerprint": sub.fingerprint,
            "created": now,
        }
        changes[0].content = dump_json(record)
        message = sub.message or f"Submit {paths.folder} version {version}"
        message += (
            f"\n\nExperiment: {experiment}\nVersion: {version}\nSubmitted-by: {paths.owner}\n"
        )
        body = build_body(
            branch=self.config.gitea_branch,
            message=message,
            author={"name": identity.name, "email": identity.email},
            committer={"name": self.config.committer_name, "email": self.config.committer_email},
            files=changes,
        )
        return record, body
