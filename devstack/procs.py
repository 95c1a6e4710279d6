"""A small process supervisor: start detached, remember the pid, wait until ready, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from . import paths


def say(msg: str) -> None:
    print(f"devstack: {msg}", file=sys.stderr, flush=True)


def run(
    cmd: list[str],
    what: str,
    *,
    cwd: Path | None = None,
    env: dict | None = None,
    log: Path | None = None,
    every: float = 20.0,
) -> str:
    """Run a (possibly long) command, printing a progress line every ``every`` seconds."""
    log = log or paths.LOGS / "build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    say(f"{what} ...")
    start = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(every):
            say(f"{what}: still running, {time.monotonic() - start:.0f} s (log: {log})")

    threading.Thread(target=heartbeat, daemon=True).start()
    try:
        with open(log, "ab") as out:
            out.write(f"\n$ {' '.join(cmd)}\n".encode())
            out.flush()
            proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=out)
    finally:
        done.set()
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}); last lines of {log}:\n{tail}")
    say(f"{what}: done in {time.monotonic() - start:.0f} s")
    return proc.stdout.decode(errors="replace")


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def alive(state: dict, name: str) -> int | None:
    """The pid of our process ``name`` if it still runs (and is still the one we started)."""
    info = state.get("procs", {}).get(name)
    if not info:
        return None
    pid = int(info["pid"])
    if info["marker"] in _cmdline(pid):
        return pid
    return None


def _alive_again(state: dict, name: str) -> bool:
    """A second look a second later: a process that replaces itself while starting (DaCHS
    re-executes itself to raise its file limits) shows no command line for a moment, and once
    a fresh CI run took that moment for its exit."""
    time.sleep(1.0)
    return alive(state, name) is not None


def start(state: dict, name: str, cmd: list[str], *, env: dict, cwd: Path, marker: str) -> int:
    paths.LOGS.mkdir(parents=True, exist_ok=True)
    log = open(paths.LOGS / f"{name}.log", "ab")
    log.write(f"\n==== {time.ctime()} $ {' '.join(cmd)}\n".encode())
    log.flush()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    state.setdefault("procs", {})[name] = {"pid": proc.pid, "marker": marker}
    paths.save_state(state)
    return proc.pid


def stop(state: dict, name: str, timeout: float = 30.0) -> bool:
    pid = alive(state, name)
    state.get("procs", {}).pop(name, None)
    paths.save_state(state)
    if pid is None:
        return False
    say(f"stopping {name} (pid {pid})")
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.3)
    os.killpg(pid, signal.SIGKILL)
    return True


def http_ok(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return 200 <= r.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_ready(name: str, ready: Callable[[], bool], state: dict, timeout: float) -> None:
    start_t = time.monotonic()
    last = start_t
    while not ready():
        if alive(state, name) is None and not _alive_again(state, name):
            raise RuntimeError(f"{name} exited while starting; see {paths.LOGS / (name + '.log')}")
        now = time.monotonic()
        if now - start_t > timeout:
            raise RuntimeError(
                f"{name} not ready after {timeout:.0f} s; see {paths.LOGS / (name + '.log')}"
            )
        if now - last > 15:
            say(f"waiting for {name} to be ready: {now - start_t:.0f} s")
            last = now
        time.sleep(0.5)
    say(f"{name} ready in {time.monotonic() - start_t:.0f} s")
