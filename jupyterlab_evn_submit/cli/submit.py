"""``submit``: prepare a notebook on disk and send it to the archive, idempotently.

Everything that can be checked locally is checked before any network call (exit 4): the
notebook (``prepare.prepare``: nbformat, output policy, size limit), the experiment code, the name
and the metadata (with the archive's own rules, from the contract it shares with the service).

Idempotency: unless ``--idempotency-key`` is given, the key is derived from the experiment, the
name, the metadata, the message and the notebook as sent. The notebook service replays a key only
for a byte-identical request, and the provenance holds the kernel's package versions (which may
change between two runs); so the provenance of the first attempt is kept in a small journal
beside the token store (``<store dir>/cli-submissions/<key>.json``) and reused by every re-run
with the same key. A re-run after a network failure, or after success, makes no second commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from nbformat import NotebookNode

from .. import prepare as prep
from .. import rules
from ..errors import BadRequest, NotebookNotFound, NotLoggedIn
from .context import Context, log

JOURNAL_DIR = "cli-submissions"
JOURNAL_DAYS = 90


@dataclass
class SubmitRequest:
    notebook: Path
    experiment: str
    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)  # "NAME[;ORCID[;AFFILIATION]]"
    license: str | None = None
    keywords: list[str] = field(default_factory=list)
    metadata_file: Path | None = None
    name: str | None = None
    message: str = ""
    output_policy: str = "keep"
    output_budget: int | None = None
    idempotency_key: str | None = None


def parse_author(text: str) -> dict[str, str]:
    """``"Jane Doe;0000-0002-1825-0097;JIVE"`` -> ``{"name", "orcid", "affiliation"}``."""
    parts = [p.strip() for p in text.split(";")]
    if len(parts) > 3 or not parts[0]:
        raise BadRequest(
            f"--author {text!r}: write NAME, NAME;ORCID or NAME;ORCID;AFFILIATION "
            "(leave ORCID empty for none: 'Jane Doe;;JIVE')."
        )
    author = {"name": parts[0]}
    if len(parts) > 1 and parts[1]:
        author["orcid"] = parts[1]
    if len(parts) > 2 and parts[2]:
        author["affiliation"] = parts[2]
    return author


def first_heading(nb: NotebookNode) -> str | None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in str(cell.source).splitlines():
                if line.startswith("#"):
                    title = line.lstrip("#").strip()
                    if title:
                        return title[:200]
    return None


def build_metadata(
    req: SubmitRequest, nb: NotebookNode, stored_user: dict[str, Any] | None
) -> dict[str, Any]:
    """The metadata to send: the ``--metadata`` file, overridden by the options, with defaults
    (title: the notebook's first heading or file name; author: the logged-in researcher)."""
    base: dict[str, Any] = {}
    if req.metadata_file is not None:
        try:
            base = json.loads(req.metadata_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            what = f"--metadata {req.metadata_file}"
            raise BadRequest(f"{what}: cannot read it as JSON ({e}).") from e
        if not isinstance(base, dict):
            raise BadRequest(f"--metadata {req.metadata_file} must hold a JSON object.")
    meta = dict(base)
    meta["title"] = req.title or base.get("title") or first_heading(nb) or req.notebook.stem
    if req.description is not None:
        meta["description"] = req.description
    meta.setdefault("description", "")
    if req.authors:
        meta["authors"] = [parse_author(a) for a in req.authors]
    elif not base.get("authors"):
        if not stored_user or not stored_user.get("name"):
            raise NotLoggedIn(
                "Give the authors with --author (or log in first: the logged-in researcher is "
                "the default author)."
            )
        meta["authors"] = [{"name": str(stored_user["name"])}]
    meta["license"] = req.license or base.get("license") or rules.DEFAULT_LICENCE
    if req.keywords:
        meta["keywords"] = list(req.keywords)
    meta.setdefault("keywords", [])
    try:
        rules.metadata(meta)  # the archive's own rules: refused here, not after an upload
    except BadRequest as e:
        raise BadRequest(f"Invalid metadata: {e.message}.") from e
    return meta


def archive_name(req: SubmitRequest) -> str | None:
    """``--name``, else the file's name when the archive accepts it, else None (the service
    derives one from the title)."""
    if req.name is not None:
        try:
            return rules.notebook_name(req.name)
        except BadRequest as e:
            raise BadRequest(f"--name {req.name!r}: {e.message}.") from e
    try:
        return rules.notebook_name(req.notebook.name)
    except BadRequest:
        return None


def derived_key(experiment: str, name: str | None, meta: dict[str, Any], message: str,
                notebook: bytes) -> str:  # fmt: skip
    digest = hashlib.sha256()
    head = {"experiment": experiment, "name": name, "metadata": meta, "message": message}
    digest.update(json.dumps(head, sort_keys=True, ensure_ascii=False).encode())
    digest.update(b"\0")
    digest.update(notebook)
    return "evn-cli-" + digest.hexdigest()[:48]


def request_body(notebook: bytes, head: dict[str, Any]) -> bytes:
    """``{"notebook": …, **head}`` without re-encoding the notebook."""
    rest = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b'{"notebook":' + notebook + b"," + rest[1:]


# --- the journal: provenance of the first attempt, per key ----------------------------------


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".json")

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            record = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("key") == key else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record | {"key": key}, f)
            os.replace(tmp, self._path(key))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._prune()

    def _prune(self) -> None:
        horizon = time.time() - JOURNAL_DAYS * 86400
        for old in self.directory.glob("*.json"):
            with contextlib.suppress(OSError):
                if old.stat().st_mtime < horizon:
                    old.unlink()


def _environment(nb: NotebookNode) -> dict[str, Any] | None:
    """Packages of the notebook's kernel (when it is an ipykernel kernel installed here)."""
    name = (nb.metadata.get("kernelspec") or {}).get("name")
    if not name:
        return None
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec(name)
    except Exception as e:  # no such kernel here: provenance without packages
        log.info("EVN archive: kernel %s not found for provenance: %s", name, e)
        return None
    python = prep.kernel_python(list(spec.argv))
    return prep.probe_python(python) if python else None


def _read(path: Path) -> bytes:
    if path.suffix != ".ipynb":
        raise BadRequest(f"{path} is not a notebook (.ipynb).")
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise NotebookNotFound(f"{path} does not exist.") from e
    except OSError as e:
        raise NotebookNotFound(f"{path} cannot be read: {e.strerror}.") from e


async def submit(ctx: Context, req: SubmitRequest) -> dict[str, Any]:
    config = ctx.config
    experiment = rules.experiment(req.experiment)
    budget = config.output_budget if req.output_budget is None else req.output_budget
    prep.check_policy(req.output_policy, budget)
    if req.idempotency_key is not None:
        rules.idempotency_key(req.idempotency_key)
    text = await anyio.to_thread.run_sync(_read, req.notebook)
    prepared = await anyio.to_thread.run_sync(
        lambda: prep.prepare(text, req.output_policy, budget, config.max_notebook_bytes)
    )
    stored = await anyio.to_thread.run_sync(ctx.store.load)
    meta = build_metadata(req, prepared.notebook, stored.user if stored else None)
    name = archive_name(req)
    key = req.idempotency_key or derived_key(experiment, name, meta, req.message, prepared.body)

    journal = Journal(config.store_path.parent / JOURNAL_DIR)
    record = await anyio.to_thread.run_sync(journal.get, key)
    if record and isinstance(record.get("provenance"), dict):
        provenance = record["provenance"]  # a re-run: the very same request as the first time
    else:
        environment = await anyio.to_thread.run_sync(_environment, prepared.notebook)
        provenance = prep.provenance(
            prepared.notebook,
            environment=environment,
            tool_version=ctx.version,
            output_policy=req.output_policy,
            stripped_outputs=prepared.stripped_outputs,
        )
        record = {"experiment": experiment, "provenance": provenance, "created": time.time()}
        await anyio.to_thread.run_sync(journal.put, key, record)
    head: dict[str, Any] = {"metadata": meta, "message": req.message, "provenance": provenance}
    if name is not None:
        head["name"] = name
    body = await anyio.to_thread.run_sync(request_body, prepared.body, head)

    tokens, client = ctx.tokens, ctx.client
    answer = await tokens.with_token(lambda tok: client.submit(experiment, body, key, tok))
    await anyio.to_thread.run_sync(journal.put, key, record | {"result": answer})
    return answer | {
        "idempotency_key": key,
        "size": prepared.size,
        "stripped_outputs": prepared.stripped_outputs,
    }
