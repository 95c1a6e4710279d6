"""A real ``jupyter server`` in a subprocess (the extension loads as in production: its
environment is the process's own), and a way to run code in its kernels and terminals."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def isolated_env(home: Path, **settings: str) -> dict[str, str]:
    """This environment without anyone's EVN_/JUPYTER_ settings, with its own Jupyter
    directories under ``home``, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVN_", "JUPYTER_"))}
    for part in ("config", "data", "runtime"):
        (home / part).mkdir(parents=True, exist_ok=True)
        env[f"JUPYTER_{part.upper()}_DIR"] = str(home / part)
    return env | settings


@dataclass
class Server:
    url: str
    token: str
    proc: subprocess.Popen[bytes]
    log: Path
    runtime: Path

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"} | kw.pop("headers", {})
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kw)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def run_in_kernel(self, code: str) -> str:
        """Start a kernel through the REST API, run ``code`` in it, return its stdout."""
        from jupyter_client import BlockingKernelClient

        r = self.request("POST", "/api/kernels", json={"name": "python3"})
        assert r.status_code == 201, r.text
        kernel_id = r.json()["id"]
        client = BlockingKernelClient(
            connection_file=str(self.runtime / f"kernel-{kernel_id}.json")
        )
        client.load_connection_file()
        client.start_channels()
        out: list[str] = []
        try:
            client.wait_for_ready(timeout=60)
            reply = client.execute_interactive(
                code, timeout=60, output_hook=lambda m: _collect(m, out)
            )
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            client.stop_channels()
            self.request("DELETE", f"/api/kernels/{kernel_id}")
        return "".join(out)

    def run_in_terminal(self, command: str) -> str:
        """Open a terminal through the REST API, type ``command``, return what it printed."""
        import asyncio

        r = self.request("POST", "/api/terminals")
        assert r.status_code == 200, r.text
        name = r.json()["name"]
        try:
            return asyncio.run(_terminal(self, name, command))
        finally:
            self.request("DELETE", f"/api/terminals/{name}")


def _collect(msg: dict[str, Any], out: list[str]) -> None:
    if msg["msg_type"] == "stream":
        out.append(msg["content"]["text"])
    elif msg["msg_type"] == "error":
        out.append("\n".join(msg["content"]["traceback"]))


async def _terminal(server: Server, name: str, command: str) -> str:
    from tornado.websocket import websocket_connect

    ws_url = server.url.replace("http://", "ws://") + f"/terminals/websocket/{name}"
    conn = await websocket_connect(ws_url + f"?token={server.token}", connect_timeout=30)
    marker = uuid.uuid4().hex
    # the quotes keep the typed command's echo from containing the marker itself
    conn.write_message(json.dumps(["stdin", f'{command}; echo "{marker[:8]}""{marker[8:]}"\r']))
    seen = ""
    deadline = time.monotonic() + 60
    while marker not in seen:
        assert time.monotonic() < deadline, seen[-2000:]
        message = await conn.read_message()
        assert message is not None, seen[-2000:]
        kind, *payload = json.loads(message)
        if kind == "stdout":
            seen += payload[0]
    conn.close()
    return seen


@contextmanager
def jupyter_server(home: Path, env: dict[str, str], *args: str) -> Iterator[Server]:
    """``jupyter server`` on a free port with a random token, its log in ``home/server.log``;
    stopped (and waited for) at the end."""
    port, token = free_port(), uuid.uuid4().hex
    root = home / "root"
    root.mkdir(parents=True, exist_ok=True)
    log = home / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        *args,
    ]
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", token, proc, log, Path(env["JUPYTER_RUNTIME_DIR"]))
    try:
        _wait_ready(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.proc.poll() is None, server.log_text()[-3000:]
        try:
            if server.request("GET", "/api/status").status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError("the Jupyter server did not start:\n" + server.log_text()[-3000:])
