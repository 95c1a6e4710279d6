"""What the routes do, one method per route: read the notebook through the contents manager,
prepare it, get a token, call the notebook service, save a copy. No request handling here.

Whatever grows with the notebook runs in a worker thread (preparing, the request body and its
digest, the provenance, reading a notebook the service sent), a piece at a time where it is JSON
(``notebookjson``), and only one copy of a big notebook is kept at a time: the event loop of the
Jupyter server stays free while a 50 MB notebook is submitted or opened as a copy.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import posixpath
import re
import time
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from jupyter_server.utils import ensure_async
from tornado import web

from . import listing, rules
from . import prepare as prep
from .client import Body, ServiceClient
from .config import EvnSubmitConfig
from .errors import BadRequest, ConfigurationError, NotebookNotFound
from .reader import as_reader, reader_token
from .tokens import TokenManager

COPY_DIR = "evn-archive"
HEALTH_TTL = 10.0


class ArchiveActions:
    """``config``, ``tokens`` and ``client`` are ``None`` when missing or invalid (see
    ``wiring.wire``); then the actions that need them raise ``ConfigurationError(problem)``
    (503) and ``status`` says ``"configured": false`` with the problem as its message."""

    def __init__(
        self,
        config: EvnSubmitConfig | None,
        tokens: TokenManager | None,
        client: ServiceClient | None,
        contents_manager: Any,
        kernel_spec_manager: Any = None,
        *,
        problem: str | None = None,
        tool_version: str = "dev",
        log: logging.Logger | None = None,
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._client = client
        self.problem = problem
        self.cm = contents_manager
        self.ksm = kernel_spec_manager
        self.tool_version = tool_version
        self.log = log or logging.getLogger(__name__)
        self._health: tuple[float, bool] | None = None
        self._copy_lock = asyncio.Lock()

    @property
    def config(self) -> EvnSubmitConfig:
        if self._config is None:
            raise ConfigurationError(self.problem)
        return self._config

    @property
    def tokens(self) -> TokenManager:
        if self._tokens is None:
            raise ConfigurationError(self.problem)
        return self._tokens

    @property
    def client(self) -> ServiceClient:
        if self._client is None:
            raise ConfigurationError(self.problem)
        return self._client

    # --- status ----------------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        configured = self._tokens is not None and self._client is not None
        login: dict[str, Any] = {"logged_in": False, "user": None, "message": None}
        if self._tokens is not None:
            login = await self._tokens.status()
        if not configured and not login["message"]:
            login["message"] = ConfigurationError(self.problem).message
        config = self._config
        return login | {
            "issuer": (config.issuer_url or None) if config else None,
            "configured": configured,
            "service": {
                "url": (config.service_url or None) if config else None,
                "reachable": await self._reachable(),
            },
        }

    async def _reachable(self) -> bool:
        if self._client is None:
            return False
        now = time.monotonic()
        if self._health and now - self._health[0] < HEALTH_TTL:
            return self._health[1]
        ok = await self._client.health()
        self._health = (time.monotonic(), ok)
        return ok

    # --- reading and preparing -------------------------------------------------------------

    async def _read(self, path: str) -> str:
        path = notebook_path(path)
        try:
            model = await ensure_async(self.cm.get(path, content=True, type="file", format="text"))
        except web.HTTPError as e:
            if e.status_code == 404:
                raise NotebookNotFound(f"{path} was not found. Save it first.") from e
            raise BadRequest(f"{path} cannot be read: {e.log_message}") from e
        return str(model["content"])

    async def _prepare(
        self, path: str, policy: str, budget: int | None, *, enforce_limit: bool
    ) -> prep.PreparedNotebook:
        text = [await self._read(path)]
        return await anyio.to_thread.run_sync(
            lambda: prep.prepare(
                text.pop(),  # its only reference: prepare lets go of the text once parsed
                policy,
                self.config.output_budget if budget is None else budget,
                self.config.max_notebook_bytes,
                enforce_limit=enforce_limit,
            )
        )

    async def preview(self, path: str, policy: str, budget: int | None) -> dict[str, Any]:
        limit = self.config.max_notebook_bytes  # not configured: 503 before anything else
        prepared = await self._prepare(path, policy, budget, enforce_limit=False)
        return {
            "size": prepared.size,
            "original_size": prepared.original_size,
            "stripped_outputs": prepared.stripped_outputs,
            "limit": limit,
        }

    async def _environment(self, nb: Any) -> dict[str, Any] | None:
        name = (nb.metadata.get("kernelspec") or {}).get("name")
        if not name or self.ksm is None:
            return None
        try:
            spec = await ensure_async(self.ksm.get_kernel_spec(name))
        except Exception as e:  # no such kernel here: provenance without packages
            self.log.info("EVN archive: kernel %s not found for provenance: %s", name, e)
            return None
        python = prep.kernel_python(list(spec.argv))
        if python is None:
            return None
        return await anyio.to_thread.run_sync(prep.probe_python, python)

    # --- submit ----------------------------------------------------------------------------

    async def submit(self, request: dict[str, Any]) -> dict[str, Any]:
        tokens, client = self.tokens, self.client  # not configured: 503 before anything else
        experiment = rules.experiment(request.get("experiment", ""))
        metadata = request.get("metadata")
        if not isinstance(metadata, dict) or not str(metadata.get("title", "")).strip():
            raise BadRequest("Give the notebook a title before submitting.")
        rules.metadata(metadata)
        policy = _text(request, "output_policy") or "keep"
        budget = request.get("output_budget")
        if budget is not None and (type(budget) is not int or not 0 <= budget < 2**40):
            raise BadRequest("output_budget must be a number of bytes.")
        name = request.get("name")
        if name is not None:
            rules.notebook_name(name)
        message = _text(request, "message")
        key = request.get("idempotency_key")
        if key is not None:
            rules.idempotency_key(key)

        # everything local first: a notebook that cannot be sent never costs a network call
        head = {"metadata": metadata, "message": message, "provenance": None}
        if name is not None:
            head["name"] = name
        path = request.get("path", "")
        body, derived_key = await self._request_body(experiment, path, policy, budget, head)
        idempotency_key = key or derived_key
        return await tokens.with_token(
            lambda tok: client.submit(experiment, body, idempotency_key, tok)
        )

    async def _request_body(
        self,
        experiment: str,
        path: str,
        policy: str,
        budget: int | None,
        head: dict[str, Any],
    ) -> tuple[Body, str]:
        """The submission's body and derived key; the parsed notebook is let go before the
        upload (only the body is kept). ``head["provenance"]`` is filled in here."""
        prepared = await self._prepare(path, policy, budget, enforce_limit=True)
        environment = await self._environment(prepared.notebook)

        def build() -> tuple[Body, str]:
            head["provenance"] = prep.provenance(
                prepared.notebook,
                environment=environment,
                tool_version=self.tool_version,
                output_policy=policy,
                stripped_outputs=prepared.stripped_outputs,
            )
            return _body(experiment, prepared.body, head)

        return await anyio.to_thread.run_sync(build)

    # --- browse ----------------------------------------------------------------------------

    # Each list takes ``limit`` and ``cursor`` in ``query`` and answers ``next_cursor``.

    async def submissions(self, query: Mapping[str, str]) -> dict[str, Any]:
        client, page = self.client, listing.page(query)
        answer = await self.tokens.with_token(lambda token: client.my_submissions(token, page))
        return listing.without_next_url(answer)

    async def experiment_notebooks(
        self, experiment: str, query: Mapping[str, str]
    ) -> dict[str, Any]:
        client, code, page = self.client, rules.experiment(experiment), listing.page(query)
        answer = await as_reader(
            self._tokens, lambda token: client.experiment_notebooks(code, page, token)
        )
        return listing.without_next_url(answer)

    async def versions(
        self, experiment: str, owner: str, name: str, query: Mapping[str, str]
    ) -> dict[str, Any]:
        client = self.client
        where = (rules.experiment(experiment), rules.owner(owner), rules.notebook_name(name))
        page = listing.page(query)
        answer = await as_reader(
            self._tokens, lambda token: client.versions(*where, page, token=token)
        )
        return listing.without_next_url(answer)

    async def observation(self, experiment: str) -> dict[str, Any]:
        """What the archive's catalogue knows of an experiment (public: no login), as the service
        answers it; the code is checked first, so a malformed one costs no network call."""
        client = self.client  # not configured: 503 before anything else
        return await client.observation(rules.experiment(experiment))

    async def search(self, query: Mapping[str, str]) -> dict[str, Any]:
        """The archive's search (public: no login; logged in, also one's own embargoed ones)."""
        client, params = self.client, listing.search_params(query)
        answer = await as_reader(self._tokens, lambda token: client.search(params, token))
        return listing.without_next_url(answer)

    # --- compare two versions ----------------------------------------------------------------

    async def diff(
        self, experiment: str, owner: str, name: str, base: str = "", remote: str = ""
    ) -> dict[str, Any]:
        """nbdime's diff of two archived versions, in the shape of nbdime's own ``/api/diff``
        (``{"base": notebook, "diff": [entry…]}``) plus the two version numbers. Without
        ``remote`` the latest version; without ``base`` the one before ``remote``."""
        client = self.client  # not configured: 503 before anything else
        where = (rules.experiment(experiment), rules.owner(owner), rules.notebook_name(name))
        remote_version, base_version = _version("remote", remote), _version("base", base)
        read = functools.partial(client.notebook, token=await reader_token(self._tokens))
        latest: dict[str, Any] | None = None
        if remote_version is None:
            latest = await read(*where)
            remote_version = int(latest["version"])
        if base_version is None:
            base_version = remote_version - 1
            if base_version < 1:
                raise BadRequest(f"{where[2]} has one version only: there is nothing to compare.")
        if latest is None:
            older, newer = await asyncio.gather(
                read(*where, base_version), read(*where, remote_version)
            )
        else:
            older, newer = await read(*where, base_version), latest
        base_nb, diff = await anyio.to_thread.run_sync(_diff, older["notebook"], newer["notebook"])
        return {
            "base": base_nb,
            "diff": diff,
            "base_version": base_version,
            "remote_version": remote_version,
        }

    # --- open a copy -----------------------------------------------------------------------

    async def open_copy(self, request: dict[str, Any]) -> dict[str, Any]:
        client = self.client  # not configured: 503 before anything else
        experiment = rules.experiment(_text(request, "experiment"))
        owner = rules.owner(_text(request, "owner"))
        name = rules.notebook_name(_text(request, "name"))
        version = request.get("version")
        if version is not None and (type(version) is not int or not 1 <= version < 2**31):
            raise BadRequest("version must be a positive number.")
        answer = await as_reader(
            self._tokens, lambda token: client.notebook(experiment, owner, name, version, token)
        )
        nb = await anyio.to_thread.run_sync(prep.notebook_from_value, answer.pop("notebook", None))
        stem = f"{name}-v{answer.get('version') or version or 'latest'}"
        folder = f"{COPY_DIR}/{experiment}"
        async with self._copy_lock:  # two copies at once must not pick the same fresh name
            await self._ensure_dir(COPY_DIR)
            await self._ensure_dir(folder)
            path = await self._fresh_path(folder, stem)
            model = {"type": "notebook", "format": "json", "content": nb}
            await ensure_async(self.cm.save(model, path))
        self.log.info("EVN archive: saved a copy of %s/%s/%s at %s", experiment, owner, name, path)
        return {"path": path}

    def open_link(self, query: Mapping[str, str]) -> str:
        """The checked ``experiment/owner/name[@version]`` a link to open a copy names. Writes
        nothing: JupyterLab asks the reader first and then calls ``open_copy``."""
        self.client  # noqa: B018 - not configured: 503, the link could not work
        experiment = rules.experiment(query.get("experiment", ""))
        owner = rules.owner(query.get("owner", ""))
        name = rules.notebook_name(query.get("name", ""))
        version = query.get("version", "")
        if version and _version("version", version) is None:
            raise BadRequest("version must be a positive number.")
        return f"{experiment}/{owner}/{name}" + (f"@{int(version)}" if version else "")

    async def _ensure_dir(self, path: str) -> None:
        if not await ensure_async(self.cm.dir_exists(path)):
            await ensure_async(self.cm.save({"type": "directory"}, path))

    async def _fresh_path(self, folder: str, stem: str) -> str:
        for i in range(10_000):
            candidate = posixpath.join(folder, f"{stem}.ipynb" if i == 0 else f"{stem}-{i}.ipynb")
            if not await ensure_async(self.cm.exists(candidate)):
                return candidate
        raise BadRequest(f"Too many copies of {stem} in {folder}; tidy it up first.")


def _body(experiment: str, notebook: bytes, head: dict[str, Any]) -> tuple[Body, str]:
    """``{"notebook": …, **head}`` without re-encoding the (possibly huge) notebook nor joining
    it to the rest, and the idempotency key derived from it (for callers that send none: the
    same content, the same key, so a blind retry cannot create a second version)."""
    rest = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    body = Body(b'{"notebook":', notebook, b"," + rest[1:])
    digest = hashlib.sha256(experiment.encode() + b"\0")
    for part in body:
        digest.update(part)
    return body, "auto-" + digest.hexdigest()[:48]


def _version(which: str, value: str) -> int | None:
    if not value:
        return None
    if not re.fullmatch(r"[1-9][0-9]{0,8}", value):  # ASCII digits: "²".isdigit() is true
        raise BadRequest(f"{which} must be a version number (1, 2, …).")
    return int(value)


def _text(request: Mapping[str, Any], name: str) -> str:
    """A field of a request body that must be a string when given (missing or null: "")."""
    value = request.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string.")
    return value


MAX_PATH_CHARS = 4096


def notebook_path(path: Any) -> str:
    """A notebook's path under the Jupyter root, as the contents manager takes it: relative,
    without ``..``, NUL or control characters, ending in ``.ipynb``."""
    if not isinstance(path, str) or not path.endswith(".ipynb"):
        raise BadRequest("Choose a notebook (.ipynb) to submit.")
    if len(path) > MAX_PATH_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise BadRequest("The notebook path holds control characters or is too long.")
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
        raise BadRequest("Give the notebook's path relative to the Jupyter root, not absolute.")
    if ".." in re.split(r"[/\\]", path):
        raise BadRequest("The notebook path must stay inside the Jupyter root (no '..').")
    return path


def _diff(older: Any, newer: Any) -> tuple[Any, list[Any]]:
    """Both notebooks read and validated, and nbdime's diff of them (blocking: in a thread)."""
    from nbdime import diff_notebooks  # on first use: the server starts without it

    base = prep.notebook_from_value(older)
    return base, diff_notebooks(base, prep.notebook_from_value(newer))
