"""A small TCP proxy the fault tests control: pass, drop (down), or hold answers back (slow).

The service keeps its connections to Gitea alive, so a mode applies to every request, on new
and open connections alike: "down" also cuts the open connections (as a Gitea that died does),
"slow" holds back each answer, not only a connection's first.
"""

from __future__ import annotations

import socket
import threading
import time

from svc_process import free_port


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``.

    ``mode``: "up"; "down" (open connections are cut, new ones closed unanswered); "slow" (every
    answer is held back ``slow_seconds``); "slow-writes" (only answers to POST requests are held
    back: the write reaches Gitea, its answer arrives too late).
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._mode = "up"
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.slow_seconds = 30.0
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        self._mode = mode
        if mode == "down":
            with self._lock:
                live, self._open = list(self._open), set()
            for s in live:
                _cut(s)

    def _serve(self, client: socket.socket) -> None:
        if self.mode == "down":
            client.close()  # as if the upstream died: the connection ends with no answer
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        with self._lock:
            self._open.update((client, upstream))
        held = {"answer": False}  # is the answer to the request just forwarded to be held back?
        threading.Thread(target=self._requests, args=(client, upstream, held), daemon=True).start()
        threading.Thread(target=self._answers, args=(upstream, client, held), daemon=True).start()

    def _requests(self, src: socket.socket, dst: socket.socket, held: dict[str, bool]) -> None:
        try:
            while data := src.recv(65536):
                if data.split(b" ", 1)[0] in METHODS:  # a new request (not more of a body)
                    write = data.startswith(b"POST")
                    held["answer"] = self.mode == "slow" or (self.mode == "slow-writes" and write)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(src, dst)

    def _answers(self, src: socket.socket, dst: socket.socket, held: dict[str, bool]) -> None:
        try:
            while data := src.recv(65536):
                if held["answer"]:
                    held["answer"] = False
                    time.sleep(self.slow_seconds)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(src, dst)

    def _close(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._open.difference_update(sockets)
        for s in sockets:
            _cut(s)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(2)
        self.mode = "down"  # and every connection still open


METHODS = {b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS"}


def _cut(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
