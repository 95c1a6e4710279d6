"""Experiment repositories of N realistic notebooks in the service's layout, built once and kept.

The files are made once into a local git repository under ``~/.cache/evn-notebook-bench`` (one
commit, tagged ``bench-base``), then pushed once into Gitea under a fixed name per size and role
(``BG0200V1``: the git user's, ``BS0200V1``: the service's). Each run force-pushes ``main`` back
to that commit, so every run starts from exactly N notebooks without sending them again.

Layout per notebook (``service/evn_notebook_service/layout.py``, ``archive.py``):
``<owner>/<name>/<name>.ipynb``, ``ro-crate-metadata.json``, ``CITATION.cff``, the state file
``.evn/notebooks/<owner>/<name>.json`` and its idempotency record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from bench_notebooks import reduction_notebook, stored
from evn_notebook_service.layout import CRATE, NotebookPaths, idempotency_path
from service_stack import Gitea

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "evn-notebook-bench"
VERSION = "V1"  # change it when the generated files change: new names, new repositories
TAG = "bench-base"
COMMITTER = ["-c", "user.name=EVN Benchmark", "-c", "user.email=bench@evn-archive.test"]


def names(size: int) -> tuple[str, str]:
    """The Gitea repositories of ``size`` notebooks: the git user's and the service's."""
    return f"BG{size:04d}{VERSION}", f"BS{size:04d}{VERSION}"


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 (git's id)


def _dump(value: object) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True) + "\n").encode()


def notebook_files(i: int) -> dict[str, bytes]:
    """The files of the ``i``-th archived notebook, as the service would have committed them."""
    paths = NotebookPaths(f"researcher{i % 25:02d}", f"reduction-{i:04d}")
    nb = stored(reduction_notebook(1_000_000 + i))
    crate = {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": [
        {"@id": paths.notebook.rsplit("/", 1)[1], "@type": ["File", "SoftwareSourceCode"],
         "name": f"Reduction {i}", "version": "1"}]}  # fmt: skip
    cff = f"cff-version: 1.2.0\ntitle: Reduction {i}\nauthors:\n  - name: Researcher {i % 25}\n"
    folder = {paths.notebook: nb, paths.crate: _dump(crate), f"{paths.folder}/CITATION.cff":
              cff.encode()}  # fmt: skip
    state = {"experiment": "BENCH", "owner": paths.owner, "owner_sub": f"sub-{i % 25}",
             "name": paths.name, "version": 1, "updated": "2024-05-01T12:00:00+00:00",
             "metadata": {"title": f"Reduction {i}", "license": "CC-BY-4.0"}, "message": "",
             "files": {p: _blob_sha(d) for p, d in folder.items()}}  # fmt: skip
    record = {"experiment": "BENCH", "owner": paths.owner, "name": paths.name, "version": 1}
    folder[paths.state] = _dump(state)
    folder[idempotency_path(f"sub-{i % 25}", f"key-{i}")] = _dump(record)
    assert CRATE in paths.crate
    return folder


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *COMMITTER, *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} in {cwd} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def local_base(size: int) -> tuple[Path, str]:
    """The cached local repository of ``size`` notebooks and its commit (built when missing)."""
    work = CACHE / f"repo-{size}-{VERSION}"
    if (work / ".git").exists():
        try:
            return work, _git(work, "rev-parse", f"{TAG}^{{commit}}")
        except RuntimeError:
            pass  # a build that was interrupted: made again
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _git(work, "init", "-q", "-b", "main")
    for i in range(size):
        for path, data in notebook_files(i).items():
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", f"{size} archived reduction notebooks (benchmark)")
    _git(work, "tag", TAG)
    return work, _git(work, "rev-parse", "HEAD")


def prepared(gitea: Gitea, size: int) -> tuple[str, str]:
    """Both repositories of ``size`` notebooks in Gitea, ``main`` at the base commit again."""
    work, commit = local_base(size)
    for name in names(size):
        if not gitea.repo_exists(name):
            gitea.create_repo(name, auto_init=False)
        remote = gitea.remote(name)
        there = gitea.git("ls-remote", remote, f"refs/tags/{TAG}").split()
        if not there or there[0] != commit:
            # the first time (or another base): every object is sent, once
            gitea.git("push", "-q", "--force", remote, f"{commit}:refs/tags/{TAG}", cwd=work)
        gitea.git("push", "-q", "--force", remote, f"{commit}:refs/heads/main", cwd=work)
    return names(size)
