"""Helpers of ``service_bench.py``: the stack's settings, a service process, tokens, notebooks."""

from __future__ import annotations

import base64
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent


def stack_env() -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "devstack", "env"], cwd=REPO, capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit("the stack is not up: run `python3 -m devstack up` first")
    env = {}
    for line in out.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """A notebook-service process of this checkout (as ``service/tests/svc_process.py`` starts
    one): no abuse limits, its own index ``index_url``, so its memory can be watched."""

    def __init__(self, stack: dict[str, str], log: Path, index_url: str = "", **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {k: v for k, v in os.environ.items() if not k.startswith("EVN_")}
        full.update(EVN_SERVICE_MAX_NEW_REPOSITORIES="0", EVN_SERVICE_MAX_SUBMISSIONS="0")
        full.update({k: v for k, v in stack.items() if k.startswith("EVN_")})
        full.update(EVN_SERVICE_BIND="127.0.0.1", EVN_SERVICE_PORT=str(self.port),
                    EVN_SERVICE_LOG_LEVEL="WARNING")  # fmt: skip
        if index_url:
            full["EVN_SERVICE_INDEX_URL"] = index_url
        full.update(env)
        self.log_path = log
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evn_notebook_service"],
            env=full,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited: {log.read_text()[-1500:]}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=2).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the service did not start: {log.read_text()[-1500:]}")

    def status(self, field: str) -> int:
        """A byte count of ``/proc/<pid>/status`` (``VmHWM``, ``VmRSS``)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field} for the service process")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@contextmanager
def index_database(stack: dict[str, str], folder: Path) -> Iterator[str]:
    """A fresh, empty index for a benchmark's service: a database of its own on devstack's
    PostgreSQL (as the real archive runs), else a SQLite file; dropped afterwards."""
    if not stack.get("EVN_POSTGRES_TEST_URL"):
        yield f"sqlite:///{folder / 'index.sqlite'}"
        return
    sys.path.insert(0, str(REPO / "service" / "tests"))
    from svc_process import fresh_postgres_database

    with fresh_postgres_database(stack, "evn_bench_") as url:
        yield url


class Tokens:
    def __init__(self, stack: dict[str, str]) -> None:
        self.stack = stack
        self._token, self._until = "", 0.0

    def __call__(self) -> str:
        if time.monotonic() > self._until:
            r = requests.post(
                self.stack["EVN_ISSUER_URL"] + "/protocol/openid-connect/token",
                data={"grant_type": "password", "client_id": self.stack["EVN_TEST_CLIENT_ID"],
                      "username": self.stack["EVN_DEMO_USER"],
                      "password": self.stack["EVN_DEMO_PASSWORD"], "scope": "openid"},
                timeout=30,
            )  # fmt: skip
            r.raise_for_status()
            self._token = r.json()["access_token"]
            self._until = time.monotonic() + r.json()["expires_in"] / 2
        return self._token


def notebook_of_size(megabytes: float) -> dict[str, Any]:
    """A notebook of about ``megabytes`` MB: 50 code cells with image outputs."""
    per_cell = int(megabytes * 1024 * 1024 / 50 * 3 / 4)
    cells = []
    for i in range(50):
        png = base64.b64encode(os.urandom(per_cell)).decode()
        cells.append({
            "cell_type": "code", "execution_count": i + 1, "id": f"c{i}", "metadata": {},
            "source": f"plot_visibilities(scan={i})",
            "outputs": [{"output_type": "display_data", "metadata": {},
                         "data": {"image/png": png, "text/plain": "<Figure>"}}],
        })  # fmt: skip
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


METADATA = {
    "title": "Benchmark notebook",
    "description": "A notebook written by the service benchmark.",
    "authors": [{"name": "Demo Researcher"}],
    "license": "CC-BY-4.0",
    "keywords": ["benchmark"],
}


_local = threading.local()


def _session() -> requests.Session:
    """One keep-alive session per thread (as Gitea's side has), so no side pays extra connects."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def submit(service: Service, code: str, token: str, nb_json: bytes, name: str) -> float:
    """Seconds for one submission through the service (retrying 503 with the same key)."""
    body = b'{"notebook": ' + nb_json + b', "metadata": ' + json.dumps(METADATA).encode()
    body += b', "name": ' + json.dumps(name).encode() + b"}"
    key = str(uuid.uuid4())
    session = _session()
    started = time.perf_counter()
    for _ in range(10):
        r = session.post(
            f"{service.url}/api/v1/experiments/{code}/notebooks",
            data=body,
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json",
                     "Idempotency-Key": key},
            timeout=600,
        )  # fmt: skip
        if r.status_code in (200, 201):
            return time.perf_counter() - started
        if r.status_code not in (503, 504):
            raise RuntimeError(f"submit answered {r.status_code}: {r.text[:200]}")
    raise RuntimeError("submit kept failing")


class Gitea:
    def __init__(self, stack: dict[str, str]) -> None:
        self.url = stack["EVN_GITEA_URL"].rstrip("/")
        self.org = stack["EVN_GITEA_ORG"]
        self.token = stack["EVN_GITEA_TOKEN"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = "token " + self.token

    def create_repo(self, name: str, auto_init: bool = True) -> None:
        r = self.session.post(
            f"{self.url}/api/v1/orgs/{self.org}/repos",
            json={"name": name, "auto_init": auto_init, "default_branch": "main"},
            timeout=60,
        )
        r.raise_for_status()

    def commit(self, repo: str, files: dict[str, bytes], message: str = "direct") -> float:
        """Seconds for one contents-API commit creating ``files``."""
        body = {
            "message": message,
            "branch": "main",
            "files": [
                {"operation": "create", "path": p, "content": base64.b64encode(c).decode()}
                for p, c in files.items()
            ],
        }
        data = json.dumps(body).encode()
        started = time.perf_counter()
        r = self.session.post(
            f"{self.url}/api/v1/repos/{self.org}/{repo}/contents",
            data=data,
            headers={"Content-Type": "application/json"},
            timeout=600,
        )
        took = time.perf_counter() - started
        if r.status_code != 201:  # a single writer: anything else is a failure, not a retry
            raise RuntimeError(f"direct commit answered {r.status_code}: {r.text[:200]}")
        return took

    def repo_exists(self, name: str) -> bool:
        r = self.session.get(f"{self.url}/api/v1/repos/{self.org}/{name}", timeout=60)
        return r.status_code == 200

    def remote(self, name: str) -> str:
        return f"{self.url}/{self.org}/{name}.git"

    def git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", "-c", f"http.extraHeader=Authorization: token {self.token}", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"git {args[0]} failed: {done.stderr.strip()[-500:]}")
        return done.stdout
