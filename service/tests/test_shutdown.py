"""SIGTERM on a real service process (``shutdown.py``): the listening socket and idle connections
close at once, a request in flight (a submission whose body is still arriving) finishes and is in
Gitea, and the process exits 0; past the grace period a request is cut off and the process still
exits promptly."""

from __future__ import annotations

import json
import signal
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from svc_api import GiteaInspector, body, experiment_code
from svc_process import ServiceProcess
from svc_raw import closed_by_server, connect, head, read_answer

pytestmark = pytest.mark.stack


def _until(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _begin_submission(svc: ServiceProcess, code: str, bearer: str, data: bytes) -> socket.socket:
    """A submission's headers and the first half of its body."""
    sock = connect(svc.port)
    request = head(
        "POST",
        f"/api/v1/experiments/{code}/notebooks",
        svc.port,
        Authorization=f"Bearer {bearer}",
        Content_Type="application/json",
        Idempotency_Key=str(uuid.uuid4()),
        Content_Length=str(len(data)),
    )
    sock.sendall(request + data[: len(data) // 2])
    return sock


def _idle_keep_alive(svc: ServiceProcess) -> socket.socket:
    sock = connect(svc.port)
    sock.sendall(head("GET", "/api/v1/health", svc.port))
    assert read_answer(sock).status == 200
    return sock


def _terminate(svc: ServiceProcess) -> float:
    assert svc.proc is not None
    svc.proc.send_signal(signal.SIGTERM)
    assert _until(lambda: "stopping: no new connections" in svc.logs(), 10), svc.logs()[-2000:]
    return time.monotonic()


def test_sigterm_lets_a_slow_submission_finish(
    stack: dict[str, str], service_logs: Path, token: Callable[..., str], gitea: GiteaInspector
) -> None:
    code = experiment_code()
    data = json.dumps(body(name="graceful.ipynb")).encode()
    with ServiceProcess(stack, service_logs, "graceful", EVN_SERVICE_SHUTDOWN_GRACE_SECONDS="20",
                        EVN_SERVICE_BODY_TIMEOUT_SECONDS="60") as svc:  # fmt: skip
        idle = _idle_keep_alive(svc)
        sock = _begin_submission(svc, code, token(), data)
        time.sleep(0.5)  # the service has the headers and waits for the rest of the body
        stopped = _terminate(svc)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", svc.port), timeout=5)
        assert closed_by_server(idle, within=2), "an idle keep-alive connection is closed"
        sock.sendall(data[len(data) // 2 :])
        answer = read_answer(sock)
        assert answer.status == 201, answer.raw
        assert answer.headers["connection"] == "close"
        assert answer.json()["folder"] == "demo/graceful"
        assert svc.proc is not None
        assert svc.proc.wait(15) == 0
        assert time.monotonic() - stopped < 15, "exits once the request is done, within grace"
        logs = svc.logs()
    assert "demo/graceful/graceful.ipynb" in gitea.tree(code)
    assert '"in_flight": 1' in logs and "every request in flight finished" in logs


def test_past_the_grace_a_request_is_cut_off_and_the_process_exits(
    stack: dict[str, str], service_logs: Path, token: Callable[..., str], gitea: GiteaInspector
) -> None:
    code = experiment_code()
    data = json.dumps(body(name="cut.ipynb")).encode()
    with ServiceProcess(stack, service_logs, "cutoff", EVN_SERVICE_SHUTDOWN_GRACE_SECONDS="1",
                        EVN_SERVICE_BODY_TIMEOUT_SECONDS="60") as svc:  # fmt: skip
        sock = _begin_submission(svc, code, token(), data)  # the rest never comes
        time.sleep(0.5)
        stopped = _terminate(svc)
        assert svc.proc is not None
        assert svc.proc.wait(10) == 0
        assert time.monotonic() - stopped < 5
        assert closed_by_server(sock, within=2)
        logs = svc.logs()
    assert '"cut_off": 1' in logs
    assert not gitea.repo_exists(code)
