"""Start notebook-service processes for tests (each on a free port, with its own environment)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

STACK_KEYS = (
    "EVN_ISSUER_URL",
    "EVN_SERVICE_AUDIENCE",
    "EVN_GITEA_URL",
    "EVN_GITEA_ORG",
    "EVN_GITEA_TOKEN",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """``python -m evn_notebook_service`` with the stack's settings plus ``overrides``."""

    def __init__(self, stack: dict, log_dir: Path, name: str = "svc", **overrides: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVN_")}
        env.update({k: stack[k] for k in STACK_KEYS})
        env.update(EVN_SERVICE_BIND="127.0.0.1", EVN_SERVICE_PORT=str(self.port))
        # its own archive index beside its log, never the default file in the working directory
        env["EVN_SERVICE_INDEX_URL"] = f"sqlite:///{log_dir.resolve()}/{name}-{self.port}.sqlite"
        # no abuse limits unless a test sets them: the suite makes hundreds of submissions
        env.update(EVN_SERVICE_MAX_NEW_REPOSITORIES="0", EVN_SERVICE_MAX_SUBMISSIONS="0")
        env.update(overrides)
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> ServiceProcess:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evn_notebook_service"],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited: {self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"service not ready: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if hasattr(self, "_log"):
            self._log.close()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def fresh_postgres_database(stack: dict, prefix: str) -> Iterator[str]:
    """A new, empty database on devstack's PostgreSQL (``EVN_POSTGRES_TEST_URL``'s server) for
    an index of its own; dropped afterwards."""
    import psycopg
    from psycopg import sql

    server = stack["EVN_POSTGRES_TEST_URL"]
    name = prefix + uuid.uuid4().hex[:12]
    admin = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
