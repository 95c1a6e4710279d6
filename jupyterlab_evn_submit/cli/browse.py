"""``list`` and ``fetch``: the read side of the archive.

``list`` asks for one page (``--limit``, ``--cursor``) or follows ``next_cursor`` to the end
(``--all``); a search (``--search`` and its filters) and an experiment's list are public.

``fetch`` never overwrites: the copy is created with ``O_EXCL`` under the first free name
(``name-v3.ipynb``, ``name-v3-1.ipynb``, …), so two fetches at once cannot pick the same file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import nbformat

from .. import listing, rules
from .. import prepare as prep
from ..errors import BadRequest, ServiceError
from ..listing import Page
from .context import Context

MAX_COPIES = 10_000


@dataclass(frozen=True)
class ListRequest:
    """``list``'s options: a search when any of ``search`` is given (``q`` may be ``""``: every
    notebook), else an experiment's notebooks, else the researcher's own submissions."""

    experiment: str | None = None
    search: Mapping[str, str | None] = field(default_factory=dict)
    limit: int | None = None
    cursor: str | None = None
    follow: bool = False  # every page from ``cursor`` to the end


Fetch = Callable[[Page], Awaitable[dict[str, Any]]]


async def list_notebooks(ctx: Context, req: ListRequest) -> dict[str, Any]:
    """A page (or, with ``follow``, all pages) of: the search (public), an experiment's
    notebooks (public), or the logged-in researcher's submissions. ``next_cursor`` is where
    the next page starts (``None``: there is none)."""
    first = listing.page({"limit": req.limit, "cursor": req.cursor})
    key, extra, fetch = _source(ctx, req)
    answer = listing.without_next_url(await fetch(first))
    if req.follow:
        await _follow(answer, key, first, fetch)
    return extra | answer


def _source(ctx: Context, req: ListRequest) -> tuple[str, dict[str, Any], Fetch]:
    """(the answer's list key, what to add to the answer, how to fetch one page)."""
    client = ctx.client
    search = {k: v for k, v in req.search.items() if v is not None}
    if search:
        params = listing.search_params(search | {"experiment": req.experiment})

        async def found(page: Page) -> dict[str, Any]:
            return await client.search(params | page.params())

        return "notebooks", {"search": params}, found
    if req.experiment:
        code = rules.experiment(req.experiment)

        async def archived(page: Page) -> dict[str, Any]:
            return await client.experiment_notebooks(code, page)

        return "notebooks", {}, archived

    async def mine(page: Page) -> dict[str, Any]:
        return await ctx.tokens.with_token(lambda token: client.my_submissions(token, page))

    return "submissions", {}, mine


async def _follow(answer: dict[str, Any], key: str, first: Page, fetch: Fetch) -> None:
    """Add every following page's items to ``answer``, until ``next_cursor`` is ``None``."""
    seen = {first.cursor}
    while answer["next_cursor"]:
        cursor = answer["next_cursor"]
        if cursor in seen:  # a service that repeats itself must not make us loop for ever
            raise ServiceError(502, f"the archive sent the page cursor {cursor!r} twice")
        seen.add(cursor)
        more = await fetch(Page(first.limit, cursor))
        answer[key] = [*answer.get(key, []), *more.get(key, [])]
        answer["next_cursor"] = more.get("next_cursor")


def fresh_path(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` or, when that exists, to ``stem-1``, ``stem-2``, …"""
    stem, suffix = target.stem, target.suffix or ".ipynb"
    for i in range(MAX_COPIES):
        candidate = target.with_name(f"{stem}{suffix}" if i == 0 else f"{stem}-{i}{suffix}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return candidate
    raise BadRequest(f"Too many copies of {target.name} in {target.parent}; tidy it up first.")


def target_path(output: str | None, name: str, version: Any) -> Path:
    """``-o`` as given (a file, or a directory to put the copy in), else the current one."""
    default = f"{name}-v{version or 'latest'}.ipynb"
    if not output:
        return Path.cwd() / default
    path = Path(output).expanduser()
    if path.is_dir() or output.endswith(os.sep):
        return path / default
    if not path.parent.is_dir():
        raise BadRequest(f"-o {output}: the folder {path.parent} does not exist.")
    return path if path.suffix == ".ipynb" else path.with_name(path.name + ".ipynb")


async def fetch(
    ctx: Context, experiment: str, owner: str, name: str, version: int | None, output: str | None
) -> dict[str, Any]:
    experiment = rules.experiment(experiment)
    owner = rules.owner(owner)
    name = rules.notebook_name(name)
    if version is not None and version < 1:
        raise BadRequest("--version must be a positive number.")
    target = target_path(output, name, version)  # a bad -o fails before the download
    answer = await ctx.client.notebook(experiment, owner, name, version)
    nb = await anyio.to_thread.run_sync(
        lambda: prep.parse_notebook(json.dumps(answer.get("notebook")))
    )
    target = target_path(output, name, answer.get("version") or version)
    data = nbformat.writes(nb).encode("utf-8")
    path = await anyio.to_thread.run_sync(fresh_path, target, data)
    return {
        "path": str(path),
        "experiment": experiment,
        "owner": owner,
        "name": name,
        "version": answer.get("version"),
        "commit": answer.get("commit"),
        "permalink": answer.get("permalink"),
    }
