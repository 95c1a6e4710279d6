"""Async client of the Gitea REST API: just the calls the archive needs, typed errors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from .config import ServiceConfig
from .errors import GiteaResponseError, NotFound, UpstreamUnavailable
from .fetch import Fetcher, json_headers


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
        self.fetcher = Fetcher("Gitea", config.connect_timeout, config.request_timeout)

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
        response = await self.fetcher.fetch(method, url, headers=self._headers(), body=body)
        if response.code in ok:
            data = json.loads(response.body) if response.body else None
            return response.code, data, dict(response.headers)
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

    async def create_repo(self, repo: str, description: str) -> None:
        """Create the experiment's repository; one that appeared meanwhile is fine."""
        body = {
            "name": repo,
            "description": description,
            "auto_init": True,
            "default_branch": self.config.gitea_branch,
            "private": False,
        }
        try:
            await self._call(
                "POST", f"/orgs/{quote(self.org)}/repos", body=json.dumps(body).encode(), ok=(201,)
            )
        except GiteaResponseError as e:
            if e.gitea_status != 409:
                raise

    async def change_files(self, repo: str, payload: bytearray) -> dict[str, Any]:
        """One commit of several files (``payload`` is the ready JSON body of the contents API)."""
        _, data, _ = await self._call(
            "POST", self._repo(repo) + "/contents", body=payload, ok=(200, 201)
        )
        return data

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
