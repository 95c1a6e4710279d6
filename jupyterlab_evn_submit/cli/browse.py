"""``list`` and ``fetch``: the read side of the archive.

``fetch`` never overwrites: the copy is created with ``O_EXCL`` under the first free name
(``name-v3.ipynb``, ``name-v3-1.ipynb``, …), so two fetches at once cannot pick the same file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio.to_thread
import nbformat

from .. import prepare as prep
from .. import rules
from ..errors import BadRequest
from .context import Context

MAX_COPIES = 10_000


async def list_notebooks(ctx: Context, experiment: str | None) -> dict[str, Any]:
    """The logged-in researcher's submissions, or every notebook archived for an experiment
    (public: no login needed)."""
    client = ctx.client
    if experiment:
        return await client.experiment_notebooks(rules.experiment(experiment))
    return await ctx.tokens.with_token(client.my_submissions)


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
