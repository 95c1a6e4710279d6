"""A real Jupyter server for the benchmarks: with or without the extension, logged in through a
bootstrap refresh token (as JupyterHub hands one over) from devstack's Keycloak."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from service_stack import METADATA, REPO, free_port

sys.path.insert(0, str(REPO))
from devstack.testing import password_grant

EXTENSION = "jupyterlab_evn_submit"


class JupyterServer:
    """``jupyter server`` on a free port; ``extension=False`` turns only this extension off."""

    def __init__(self, stack: dict[str, str], work: Path, service_url: str, *,
                 extension: bool = True, login: bool = False) -> None:  # fmt: skip
        self.root = work / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}/x/"
        config = work / f"config-{self.port}.json"
        switch = {"ServerApp": {"jpserver_extensions": {EXTENSION: extension}}}
        config.write_text(json.dumps(switch))
        env = _environ() | stack
        env.update(EVN_SERVICE_URL=service_url,
                   EVN_CLIENT_ID=stack["EVN_TEST_CLIENT_ID"],
                   EVN_TOKEN_STORE=str(work / f"store-{self.port}" / "refresh-token"),
                   EVN_TOKEN_KEYS=Fernet.generate_key().decode(),
                   EVN_MAX_NOTEBOOK_BYTES=str(70 * 1024 * 1024),
                   EVN_HTTP_TIMEOUT="600")  # fmt: skip
        if login:
            env["EVN_REFRESH_TOKEN"] = password_grant(stack)["refresh_token"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {self.token}"
        self.log = open(work / f"jupyter-{self.port}.log", "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyter"), "server", "--no-browser",
             "--allow-root", "--ip=127.0.0.1", f"--port={self.port}", f"--config={config}",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
             "--ServerApp.base_url=/x/"],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip

    def ready(self, timeout: float = 120) -> float:
        """Seconds from the process's start until ``/api/status`` answered 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter server exited {self.proc.returncode}")
            try:
                if self.session.get(self.base + "api/status", timeout=1).status_code == 200:
                    return time.perf_counter() - self.started
            except requests.RequestException:
                pass
            time.sleep(0.01)
        raise RuntimeError("jupyter server did not answer /api/status")

    def extension_loaded(self) -> bool:
        r = self.session.get(self.base + "evn-submit/status", timeout=10)
        return r.status_code != 404

    def submit(self, experiment: str, path: str, name: str) -> float:
        """Seconds for ``POST evn-submit/submit`` of the notebook at ``path`` (under the root)."""
        body = {"path": path, "experiment": experiment, "name": name,
                "metadata": dict(METADATA, title=f"Benchmark {name}"), "output_policy": "keep",
                "message": "benchmark",
                "idempotency_key": "bench-" + secrets.token_hex(12)}  # fmt: skip
        started = time.perf_counter()
        r = self.session.post(self.base + "evn-submit/submit", json=body, timeout=900)
        took = time.perf_counter() - started
        # 200: the extension retried and the service replayed the first commit
        if r.status_code not in (200, 201):
            raise RuntimeError(f"the extension's submit answered {r.status_code}: {r.text[:300]}")
        return took

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("EVN_")}


def start_time(stack: dict[str, str], work: Path, service_url: str, extension: bool) -> float:
    """Seconds until a fresh Jupyter server answers ``/api/status``, with or without us."""
    server = JupyterServer(stack, work, service_url, extension=extension)
    try:
        took = server.ready()
        if server.extension_loaded() != extension:
            raise RuntimeError(f"the extension was {'not ' if extension else ''}loaded")
        return took
    finally:
        server.stop()
