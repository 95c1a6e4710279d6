"""Where things live in an experiment's repository (the archive layout)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

CRATE = "ro-crate-metadata.json"
PROVENANCE = "provenance.json"
STATE_DIR = ".evn/notebooks"
IDEMPOTENCY_DIR = ".evn/idempotency"


@dataclass(frozen=True)
class NotebookPaths:
    """The files of one archived notebook: ``<owner>/<name>/`` plus the service's state file."""

    owner: str
    name: str

    @property
    def folder(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def notebook(self) -> str:
        return f"{self.folder}/{self.name}.ipynb"

    @property
    def crate(self) -> str:
        return f"{self.folder}/{CRATE}"

    @property
    def provenance(self) -> str:
        return f"{self.folder}/{PROVENANCE}"

    @property
    def state(self) -> str:
        """Owner, version, metadata and the blob ids of the folder's files (service bookkeeping)."""
        return f"{STATE_DIR}/{self.owner}/{self.name}.json"


def idempotency_path(sub: str, key: str) -> str:
    """The idempotency record of researcher ``sub``'s key: ``.evn/idempotency/<h[:2]>/<h>.json``.

    ``h = sha256(sub:key)``: 256 folders, so a commit rewrites one small folder of records
    rather than one folder holding every record of the repository."""
    digest = _record_digest(sub, key)
    return f"{IDEMPOTENCY_DIR}/{digest[:2]}/{digest}.json"


def legacy_idempotency_path(sub: str, key: str) -> str:
    """Where records were written before they were sharded (still read: repositories hold them)."""
    return f"{IDEMPOTENCY_DIR}/{_record_digest(sub, key)}.json"


def _record_digest(sub: str, key: str) -> str:
    return hashlib.sha256(f"{sub}:{key}".encode()).hexdigest()


def permalink(gitea_url: str, org: str, repo: str, commit: str, path: str) -> str:
    return f"{gitea_url}/{quote(org)}/{quote(repo)}/src/commit/{commit}/{quote(path)}"
