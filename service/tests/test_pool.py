"""The pooled connections of ``fetch.Fetcher``: kept alive, limited per kind, bounded waits.

Reuse is counted on the real Gitea (this process's TCP connections to it, from /proc); the
limits, the deadlines and the streamed body against a local Tornado server that counts its
connections and the requests it is answering at once (the lowest boundary).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
from evn_notebook_service.errors import UpstreamTimeout, UpstreamUnavailable
from evn_notebook_service.fetch import ConnectionsBusy, Fetcher, within
from svc_process import free_port
from tornado import web
from tornado.httpserver import HTTPServer


class Counted(HTTPServer):
    def initialize(self, *args: Any, **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.connections = 0

    def handle_stream(self, stream: Any, address: Any) -> None:
        self.connections += 1
        super().handle_stream(stream, address)


class Slow(web.RequestHandler):
    """Answers after ``?s=`` seconds; counts the requests being answered at once, per method."""

    async def _answer(self) -> None:
        state = self.settings["state"]
        kind = self.request.method
        state["now"][kind] = state["now"].get(kind, 0) + 1
        state["peak"][kind] = max(state["peak"].get(kind, 0), state["now"][kind])
        try:
            await asyncio.sleep(float(self.get_argument("s", "0")))
        finally:
            state["now"][kind] -= 1
        state["bodies"].append((dict(self.request.headers), self.request.body))
        self.set_header("X-Total-Count", "7")
        self.write({"method": kind})

    get = post = _answer


@asynccontextmanager
async def local_server() -> AsyncIterator[tuple[str, dict[str, Any], Counted]]:
    state: dict[str, Any] = {"now": {}, "peak": {}, "bodies": []}
    port = free_port()
    server = Counted(web.Application([(r"/.*", Slow)], state=state))
    server.listen(port, address="127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port}", state, server
    finally:
        server.stop()
        await server.close_all_connections()


def _fetcher(**limits: int) -> Fetcher:
    return Fetcher("Gitea", connect_timeout=2, request_timeout=10, **limits)


# --- reuse, on the real Gitea ----------------------------------------------------------------


def _sockets_to(port: int) -> set[int]:
    """Local ports of this process's TCP connections to 127.0.0.1:``port`` (any state)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    with open("/proc/self/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.split(":")[1], 16) == port:
                ports.add(int(local.split(":")[1], 16))
    return ports


@pytest.mark.stack
def test_sequential_calls_to_gitea_reuse_one_connection(stack: dict[str, str]) -> None:
    url = stack["EVN_GITEA_URL"]
    port = urlsplit(url).port or 80
    fetcher = _fetcher(read_connections=4, write_connections=2)

    async def run() -> list[set[int]]:
        before = _sockets_to(port)  # this process's other clients (the tests' own session)
        seen = []
        for _ in range(30):
            response = await fetcher.fetch("GET", url + "/api/v1/version")
            assert response.code == 200 and b"version" in response.body
            seen.append(_sockets_to(port) - before)
        await fetcher.aclose()
        seen.append(_sockets_to(port) - before)
        return seen

    seen = asyncio.run(run())
    used = set().union(*seen[:-1])
    assert len(used) == 1, f"30 sequential calls used {len(used)} connections"
    assert seen[-1] == set(), "aclose() left connections open"


# --- limits, deadlines, bodies, on a local server ----------------------------------------------


def test_reads_and_writes_each_stay_within_their_limit_and_do_not_wait_for_each_other() -> None:
    async def run() -> tuple[dict[str, int], float, int]:
        async with local_server() as (base, state, server):
            fetcher = _fetcher(read_connections=2, write_connections=3)
            started = time.monotonic()
            calls = [fetcher.fetch("GET", base + "/r?s=0.4") for _ in range(6)]
            calls += [
                fetcher.fetch("POST", base + "/w?s=0.4", body=b"{}", kind="write") for _ in range(6)
            ]
            answers = await asyncio.gather(*calls)
            elapsed = time.monotonic() - started
            await fetcher.aclose()
            assert all(a.code == 200 for a in answers)
            return state["peak"], elapsed, server.connections

    peak, elapsed, connections = asyncio.run(run())
    assert peak == {"GET": 2, "POST": 3}
    assert connections == 5  # each connection opened once, then reused
    # 6 reads 2 at a time: 3 rounds of 0.4 s; the writes ran beside them, not after them
    assert 1.2 <= elapsed < 2.4, elapsed


def test_a_call_waiting_past_its_deadline_for_a_connection_gets_503_with_retry_after() -> None:
    async def run() -> tuple[BaseException, float, int]:
        async with local_server() as (base, _, _server):
            fetcher = _fetcher(read_connections=1)
            busy = asyncio.ensure_future(fetcher.fetch("GET", base + "/?s=2"))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            with pytest.raises(ConnectionsBusy) as refused:
                await fetcher.fetch("GET", base + "/", deadline=time.monotonic() + 0.3)
            waited = time.monotonic() - started
            # the deadline of the task (the archive's) bounds calls that pass none
            with within(time.monotonic() + 0.2), pytest.raises(ConnectionsBusy):
                await fetcher.fetch("GET", base + "/")
            code = (await busy).code
            await fetcher.aclose()
            return refused.value, waited, code

    error, waited, code = asyncio.run(run())
    assert isinstance(error, UpstreamUnavailable) and error.status == 503
    assert error.retry_after >= 1  # type: ignore[attr-defined]
    assert "Gitea" in error.message and "busy" in error.message and "try again" in error.message
    assert 0.25 <= waited < 1.5, waited  # not until the busy call ended (2 s)
    assert code == 200  # the call holding the connection was not disturbed


def test_past_its_deadline_a_call_takes_a_free_connection_but_waits_for_none() -> None:
    async def run() -> float:
        async with local_server() as (base, _, _server):
            fetcher = _fetcher(read_connections=1)
            past = time.monotonic() - 1
            assert (await fetcher.fetch("GET", base + "/", deadline=past)).code == 200
            busy = asyncio.ensure_future(fetcher.fetch("GET", base + "/?s=1"))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            with pytest.raises(ConnectionsBusy):
                await fetcher.fetch("GET", base + "/", deadline=past)
            refused_in = time.monotonic() - started
            await busy
            await fetcher.aclose()
            return refused_in

    assert asyncio.run(run()) < 0.3


class Body:
    """A body like ``commitbody.CommitBody``: its length, then slices produced on demand."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts
        self.length = sum(map(len, parts))
        self.produced = 0

    def chunks(self) -> Iterator[bytes]:
        for part in self.parts:
            self.produced += 1
            yield part


def test_a_streamed_body_is_sent_whole_with_its_content_length_and_can_be_sent_again() -> None:
    parts = [os.urandom(1 << 20), b"x" * 1000, os.urandom(300_000)]
    body = Body(parts)

    async def run() -> list[tuple[dict[str, str], bytes]]:
        async with local_server() as (base, state, _server):
            fetcher = _fetcher()
            for _ in range(2):  # a retry sends it again
                answer = await fetcher.fetch("POST", base + "/", body=body, kind="write")
                assert answer.code == 200
            big = bytearray(os.urandom(2_500_000))
            assert (await fetcher.fetch("POST", base + "/", body=big)).code == 200
            await fetcher.aclose()
            return [*state["bodies"], (None, bytes(big))]

    first, second, third, big = asyncio.run(run())
    for headers, sent in (first, second):
        assert sent == b"".join(parts)
        assert headers["Content-Length"] == str(body.length)
        assert "Transfer-Encoding" not in headers
    assert body.produced == 6
    assert third[1] == big[1] and third[0]["Content-Length"] == str(len(big[1]))


def test_statuses_come_back_and_headers_keep_their_names() -> None:
    async def run() -> Any:
        async with local_server() as (base, _, _server):
            fetcher = _fetcher()
            answer = await fetcher.fetch("GET", base + "/missing?s=0")
            await fetcher.aclose()
            return answer

    answer = asyncio.run(run())
    assert answer.code == 200 and dict(answer.headers)["X-Total-Count"] == "7"


def test_no_answer_is_503_and_too_slow_is_504_and_the_log_has_no_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def run() -> tuple[BaseException, BaseException]:
        down = Fetcher("Gitea", connect_timeout=2, request_timeout=5)
        with pytest.raises(UpstreamUnavailable) as refused:
            await down.fetch("GET", f"http://127.0.0.1:{free_port()}/x?token=secret")
        async with local_server() as (base, _, _server):
            slow = Fetcher("Gitea", connect_timeout=2, request_timeout=0.3)
            with pytest.raises(UpstreamTimeout) as late:
                await slow.fetch("GET", base + "/?s=2&token=secret")
            await slow.aclose()
        return refused.value, late.value

    with caplog.at_level(logging.WARNING):
        refused, late = asyncio.run(run())
    assert refused.status == 503 and "unreachable" in refused.message  # type: ignore[attr-defined]
    assert late.status == 504 and "did not answer in time" in late.message  # type: ignore[attr-defined]
    ours = " ".join(r.getMessage() for r in caplog.records if r.name == "evn_notebook_service")
    assert "unreachable: GET" in ours and "timed out: GET" in ours and "secret" not in ours


def test_one_fetcher_serves_successive_event_loops() -> None:
    async def once(fetcher: Fetcher) -> int:
        async with local_server() as (base, _, _server):
            return (await fetcher.fetch("GET", base + "/")).code

    fetcher = _fetcher()
    assert asyncio.run(once(fetcher)) == 200
    assert asyncio.run(once(fetcher)) == 200  # the first loop's connections are not reused
