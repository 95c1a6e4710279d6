"""Helpers of ``service_bench.py``: the stack's settings, a service process, tokens, notebooks."""

from __future__ import annotations

import base64
import json
import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
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
    """A notebook-service process of this checkout, so its memory can be watched."""

    def __init__(self, stack: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVN_")}
        env.update({k: v for k, v in stack.items() if k.startswith("EVN_")})
        env.update(EVN_SERVICE_PORT=str(self.port), EVN_SERVICE_LOG_LEVEL="WARNING")
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evn_notebook_service"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(150):
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("the service did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self._log.close()


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


def submit(service: Service, code: str, token: str, nb_json: bytes, name: str) -> float:
    """Seconds for one submission through the service (retrying 503 with the same key)."""
    body = b'{"notebook": ' + nb_json + b', "metadata": ' + json.dumps(METADATA).encode()
    body += b', "name": ' + json.dumps(name).encode() + b"}"
    key = str(uuid.uuid4())
    started = time.perf_counter()
    for _ in range(10):
        r = requests.post(
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

    def create_repo(self, name: str) -> None:
        r = self.session.post(
            f"{self.url}/api/v1/orgs/{self.org}/repos",
            json={"name": name, "auto_init": True, "default_branch": "main"},
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
        for _ in range(20):
            r = self.session.post(
                f"{self.url}/api/v1/repos/{self.org}/{repo}/contents",
                data=data,
                headers={"Content-Type": "application/json"},
                timeout=600,
            )
            if r.status_code == 201:
                return time.perf_counter() - started
            time.sleep(0.2)
        raise RuntimeError(f"direct commit failed: {r.status_code} {r.text[:200]}")

    def git(self, *args: str, cwd: Path | None = None) -> None:
        subprocess.run(
            ["git", "-c", f"http.extraHeader=Authorization: token {self.token}", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
        )
