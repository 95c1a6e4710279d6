"""Part 1 of ``extension_bench.py``: the Jupyter server's ``GET /api/status`` latency while the
extension submits a big notebook and opens it as a copy, and while Jupyter itself saves it (the
floor), for one or more versions of the extension's code side by side (see there).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import requests
from cryptography.fernet import Fernet
from extension_bench import (
    REPO,
    big_notebook,
    experiment_code,
    keycloak_login,
    percentiles,
    submission,
)

# --- part 1: a real Jupyter server --------------------------------------------------------


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def code_at(rev: str, work: Path) -> Path:
    """The extension's package (and the contract it links to) as of ``rev``, for PYTHONPATH."""
    target = work / f"code-{rev.replace('/', '_')}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", rev, "jupyterlab_evn_submit", "contract"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(
    stack: dict[str, str], root: Path, work: Path, size: int, code: Path | None
) -> tuple[subprocess.Popen[bytes], str, str]:
    port, token = free_port(), secrets.token_hex(16)
    env = (
        os.environ
        | stack
        | {
            "EVN_TOKEN_STORE": str(work / f"store-{port}" / "refresh-token"),
            "EVN_TOKEN_KEYS": Fernet.generate_key().decode(),
            "EVN_MAX_NOTEBOOK_BYTES": str(size + 10_000_000),
            "EVN_HTTP_TIMEOUT": "120",
        }
        | ({"PYTHONPATH": str(code)} if code else {})
    )
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.base_url=/",  # the devstack realm allows exactly /evn-submit/callback
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "jupyter.log", "a"),
    )
    return server, f"http://127.0.0.1:{port}/", token


def logged_in_session(stack: dict[str, str], base: str, token: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"token {token}"
    for _ in range(120):
        try:
            if s.get(base + "api/status", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    # the session now holds Jupyter's login cookie: one stable Jupyter user
    start = s.post(base + "evn-submit/login", json={}, timeout=30).json()
    query = keycloak_login(
        start["authorize_url"], stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"]
    )
    page = s.get(base + "evn-submit/callback", params=query, timeout=30)
    assert '"ok": true' in page.text, page.text[:500]
    return s


class Prober:
    """A thread that asks ``GET /api/status`` every 20 ms and keeps each answer's latency."""

    def __init__(self, base: str, token: str) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"
        self.url = base + "api/status"
        self.samples: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            self.session.get(self.url, timeout=30).raise_for_status()
            self.samples.append(time.perf_counter() - t0)
            time.sleep(0.02)

    def during(self, work: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
        """``work(*args, **kwargs)`` with the prober running; its result and how long it took."""
        self.thread.start()
        t0 = time.perf_counter()
        try:
            return work(*args, **kwargs), time.perf_counter() - t0
        finally:
            self.stop.set()
            self.thread.join()


class Subject:
    """One ``jupyter server`` running one version of the extension, and its figures."""

    def __init__(self, stack: dict[str, str], root: Path, work: Path, size: int, rev: str | None):
        self.label = rev or "working tree"
        code = code_at(rev, work) if rev else None
        self.server, self.base, self.token = start_server(stack, root, work, size, code)
        self.session = logged_in_session(stack, self.base, self.token)
        self.idle = Prober(self.base, self.token)
        self.submits, self.copies, self.saves = Pooled(), Pooled(), Pooled()
        self.hwm_start = vm_hwm_mb(self.server.pid)
        notebook = json.loads((root / "big.ipynb").read_text())
        self.save_body = json.dumps({"type": "notebook", "content": notebook}).encode()

    def one_round(self) -> None:
        """Submit big.ipynb (a new experiment), then open it as a copy, each under a prober."""
        experiment = experiment_code()
        ask = submission(experiment, "big.ipynb", "big")
        post = self.session.post
        r = self.submits.measure(self, post, self.base + "evn-submit/submit", json=ask)
        # 200: the extension retried (timeout or 502-504) and the service replayed the commit
        assert r.status_code in (200, 201), r.text[:500]
        owner = r.json()["submitter"]["username"]
        copy = {"experiment": experiment, "owner": owner, "name": "big"}
        r = self.copies.measure(self, post, self.base + "evn-submit/open-copy", json=copy)
        assert r.status_code == 200, f"{self.label}: {r.text[:500]}"
        # the floor: Jupyter saving the same notebook itself, as JupyterLab's "Save" does
        put, url = self.session.put, self.base + "api/contents/saved.ipynb"
        r = self.saves.measure(self, put, url, data=self.save_body, headers=JSON_HEADERS)
        assert r.status_code in (200, 201), f"{self.label}: {r.text[:500]}"

    def report(self) -> None:
        print(f"  code: {self.label}")
        print(f"    idle              {percentiles(self.idle.samples)}")
        print(f"    during submission {percentiles(self.submits.samples)}  ({self.submits.note()})")
        print(f"    during open-copy  {percentiles(self.copies.samples)}  ({self.copies.note()})")
        print(f"    during a save     {percentiles(self.saves.samples)}  ({self.saves.note()})")
        after = vm_hwm_mb(self.server.pid)
        print(f"    server VmHWM {self.hwm_start:.0f} MB at start, {after:.0f} MB after")

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=30)


JSON_HEADERS = {"Content-Type": "application/json"}


class Pooled:
    def __init__(self) -> None:
        self.samples: list[float] = []
        self.took: list[float] = []

    def measure(self, subject: Subject, work: Any, *args: Any, **kwargs: Any) -> Any:
        probe = Prober(subject.base, subject.token)
        result, took = probe.during(work, *args, timeout=900, **kwargs)
        self.samples += probe.samples
        self.took.append(took)
        return result

    def note(self) -> str:
        return "end to end " + ", ".join(f"{t:.1f}" for t in self.took) + " s"


def latency_under_submission(
    stack: dict[str, str], size_mb: int, runs: int, work: Path, revs: list[str]
) -> None:
    """Each code version in its own server; the rounds interleave the versions."""
    root = work / "root"
    root.mkdir(exist_ok=True)
    nbformat.write(big_notebook(size_mb), root / "big.ipynb")
    size = (root / "big.ipynb").stat().st_size
    subjects: list[Subject] = []
    try:
        for rev in [*revs, None]:
            subjects.append(Subject(stack, root, work, size, rev))
        before = load()
        for subject in subjects:
            subject.idle.during(time.sleep, 5.0)
        for _ in range(runs):
            for subject in subjects:
                try:
                    subject.one_round()
                except AssertionError as e:  # e.g. the devstack service restarted meanwhile
                    print(f"  a round failed ({e}); once more", file=sys.stderr)
                    time.sleep(10)
                    subject.one_round()
        print(
            f"\n/api/status latency (polled every 20 ms), {size / 1e6:.1f} MB notebook "
            f"({size_mb} image outputs), {runs} submissions and copies per version, "
            f"interleaved; load average {before} before, {load()} after"
        )
        for subject in subjects:
            subject.report()
    finally:
        for subject in subjects:
            subject.stop()
