"""Async client of the Gitea REST API: just the calls the archive needs, typed errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

from .commitbody import CommitBody
from .config import ServiceConfig
from .errors import GiteaResponseError, NotFound, UpstreamUnavailable
from .fetch import Fetcher, Kind, Response, json_headers

TREE_PAGE = 1000  # Gitea's largest page of a tree listing ([api] DEFAULT_GIT_TREES_PER_PAGE)
HISTORY_PAGE = 50
ANSWER_IN_THREAD = 1 << 20  # a commit's answer larger than this is parsed in a worker thread


def _commit_of(answer: bytes) -> dict[str, Any]:
    """``{"commit": …}`` of the contents API's answer, without the files it repeats."""
    data = json.loads(answer)
    return {"commit": data["commit"]}


def _kind(method: str) -> Kind:
    """Which pool of connections a call uses: reads never wait behind commits."""
    return "read" if method == "GET" else "write"


def _message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode(errors="replace")
    if isinstance(data, dict):
        return str(data.get("message") or data.get("errors") or data)[:500]
    return str(data)[:500]


class GiteaClient:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.base = config.gitea_url + "/api/v1"
        self.org = config.gitea_org
        self.fetcher = Fetcher(
            "Gitea",
            config.connect_timeout,
            config.request_timeout,
            read_connections=config.gitea_read_connections,
            write_connections=config.gitea_write_connections,
        )

    async def aclose(self) -> None:
        """Close the pooled connections to Gitea (at shutdown)."""
        await self.fetcher.aclose()

    def _headers(self) -> dict[str, str]:
        return json_headers({"Authorization": "token " + self.config.gitea_token})

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | bytearray | None = None,
        query: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, Any, dict[str, str]]:
        url = self.base + path + ("?" + urlencode(query) if query else "")
        response = await self.fetcher.fetch(
            method, url, headers=self._headers(), body=body, kind=_kind(method)
        )
        if response.code in ok:
            data = json.loads(response.body) if response.body else None
            return response.code, data, dict(response.headers)
        self._raise(response, method, path)

    @staticmethod
    def _raise(response: Response, method: str, path: str) -> NoReturn:
        if response.code in (502, 503, 504):
            raise UpstreamUnavailable(f"Gitea is unavailable ({response.code}); try again later")
        raise GiteaResponseError(response.code, _message(response.body or b""), method, path)

    def _repo(self, repo: str) -> str:
        return f"/repos/{quote(self.org)}/{quote(repo)}"

    async def repo_exists(self, repo: str) -> bool:
        try:
            await self._call("GET", self._repo(repo))
        except GiteaResponseError as e:
            if e.gitea_status == 404:
                return False
            raise
        return True

    async def create_repo(self, repo: str, description: str, *, private: bool = False) -> None:
        """Create the experiment's repository; one that appeared meanwhile is fine.
        ``private``: the experiment's data are still proprietary (docs/catalogue.md)."""
        body = {
            "name": repo,
            "description": description,
            "auto_init": True,
            "default_branch": self.config.gitea_branch,
            "private": private,
        }
        try:
            await self._call(
                "POST", f"/orgs/{quote(self.org)}/repos", body=json.dumps(body).encode(), ok=(201,)
            )
        except GiteaResponseError as e:
            if e.gitea_status != 409:
                raise

    async def set_private(self, repo: str, private: bool) -> None:
        """Hide the repository from anonymous readers, or show it (the embargo's end)."""
        body = json.dumps({"private": private}).encode()
        await self._call("PATCH", self._repo(repo), body=body, ok=(200,))

    async def change_files(self, repo: str, payload: CommitBody) -> dict[str, Any]:
        """One commit of several files (``payload``: the contents-API body, streamed as sent).

        Gitea answers with the commit and every changed file again, each file's content in
        base64 up to its ``[api] DEFAULT_MAX_BLOB_SIZE`` (10 MiB by default; the API has no
        parameter for less). Only ``{"commit": …}`` is kept, and a large answer is parsed in a
        worker thread, off the event loop.
        """
        url = self.base + self._repo(repo) + "/contents"
        response = await self.fetcher.fetch(
            "POST", url, headers=self._headers(), body=payload, kind="write"
        )
        if response.code not in (200, 201):
            self._raise(response, "POST", self._repo(repo) + "/contents")
        raw = response.body or b""
        if len(raw) > ANSWER_IN_THREAD:
            return await asyncio.to_thread(_commit_of, raw)
        return _commit_of(raw)

    async def raw(self, repo: str, path: str, ref: str | None = None) -> bytes | None:
        """A file's bytes at ``ref`` (default branch when None); None when absent."""
        url = self.base + self._repo(repo) + "/raw/" + quote(path)
        if ref:
            url += "?" + urlencode({"ref": ref})
        response = await self.fetcher.fetch("GET", url, headers=self._headers())
        if response.code == 404:
            return None
        if response.code != 200:
            raise GiteaResponseError(response.code, _message(response.body or b""), "GET", "raw")
        return response.body

    async def commits(
        self, repo: str, path: str, page: int = 1, limit: int = 50
    ) -> tuple[list[dict[str, Any]], int]:
        """Commits touching ``path`` (newest first) and their total count."""
        query = {
            "sha": self.config.gitea_branch,
            "path": path,
            "page": page,
            "limit": limit,
            "stat": "false",
            "verification": "false",
            "files": "false",
        }
        try:
            _, data, headers = await self._call("GET", self._repo(repo) + "/commits", query=query)
        except GiteaResponseError as e:
            if e.gitea_status in (404, 409):  # no repository / empty repository
                return [], 0
            raise
        total = int(headers.get("X-Total-Count", len(data or [])))
        return list(data or []), total

    async def list_dir(self, repo: str, path: str) -> list[dict[str, Any]]:
        """Entries of a directory on the branch; [] when it does not exist."""
        try:
            _, data, _ = await self._call(
                "GET",
                self._repo(repo) + "/contents/" + quote(path),
                query={"ref": self.config.gitea_branch},
            )
        except GiteaResponseError as e:
            if e.gitea_status == 404:
                return []
            raise
        return list(data) if isinstance(data, list) else []

    async def require_repo(self, repo: str) -> None:
        if not await self.repo_exists(repo):
            raise NotFound(f"no notebooks are archived for experiment {repo}")

    async def org_repos(self) -> list[str]:
        names: list[str] = []
        page = 1
        while True:
            _, data, _ = await self._call(
                "GET", f"/orgs/{quote(self.org)}/repos", query={"page": page, "limit": 50}
            )
            if not data:
                return names
            names += [r["name"] for r in data]
            page += 1

    # --- reads of the indexer (indexer.py): whole repositories, any branch ---------------------

    async def repository(self, repo: str) -> dict[str, Any] | None:
        """The repository's record (``default_branch``, ``updated_at``, ``empty``); None: none."""
        try:
            _, data, _ = await self._call("GET", self._repo(repo))
        except GiteaResponseError as e:
            if e.gitea_status == 404:
                return None
            raise
        return dict(data)

    async def branch_head(self, repo: str, branch: str) -> str | None:
        """The commit ``branch`` points at; None when the branch (or the repository) is absent."""
        try:
            _, data, _ = await self._call(
                "GET", self._repo(repo) + "/branches/" + quote(branch, safe="")
            )
        except GiteaResponseError as e:
            if e.gitea_status in (404, 409):
                return None
            raise
        return str(data["commit"]["id"])

    async def tree(self, repo: str, ref: str) -> list[dict[str, Any]]:
        """Every entry (``path``, ``type``, ``sha``) of the tree at ``ref``, recursively, following
        Gitea's pages; [] when ``ref`` does not exist (an empty repository, another branch)."""
        entries: list[dict[str, Any]] = []
        page = 1
        while True:
            try:
                _, data, _ = await self._call(
                    "GET",
                    self._repo(repo) + "/git/trees/" + quote(ref, safe=""),
                    query={"recursive": "true", "per_page": TREE_PAGE, "page": page},
                )
            except GiteaResponseError as e:
                if e.gitea_status in (400, 404, 409) and page == 1:  # 400: "sha not found"
                    return []
                raise
            batch = list((data or {}).get("tree") or [])
            entries += batch
            if not data.get("truncated") or not batch:
                return entries
            page += 1

    async def history(self, repo: str, path: str, ref: str) -> list[dict[str, Any]]:
        """Every commit on ``ref`` that touched ``path``, newest first.

        With ``path`` Gitea ignores ``limit`` (its pages hold ``[git] COMMITS_RANGE_SIZE``
        commits), so pages are followed until the total it reports, and never trusted to be
        disjoint.
        """
        commits: list[dict[str, Any]] = []
        seen: set[str] = set()
        page = 1
        while True:
            query = {"sha": ref, "path": path, "page": page, "limit": HISTORY_PAGE,
                     "stat": "false", "verification": "false", "files": "false"}  # fmt: skip
            try:
                _, data, headers = await self._call(
                    "GET", self._repo(repo) + "/commits", query=query
                )
            except GiteaResponseError as e:
                if e.gitea_status in (404, 409) and page == 1:
                    return []
                raise
            fresh = [c for c in data or [] if c["sha"] not in seen]
            seen.update(c["sha"] for c in fresh)
            commits += fresh
            total = int(headers.get("X-Total-Count", len(commits)))
            if not fresh or len(commits) >= total:
                return commits
            page += 1

    async def org_repositories(self) -> list[dict[str, Any]]:
        """Every repository of the organisation (``name``, ``updated_at``, …), all pages."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            _, data, _ = await self._call(
                "GET", f"/orgs/{quote(self.org)}/repos", query={"page": page, "limit": 50}
            )
            if not data:
                return found
            found += data
            page += 1
