"""A small TCP proxy the fault tests control: pass, drop (down), or hold answers back (slow).

The service's HTTP client opens one connection per request, so the mode applies per request.
"""

from __future__ import annotations

import socket
import threading
import time

from svc_process import free_port


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``.

    ``mode``: "up"; "down" (connections are closed unanswered); "slow" (every answer is held
    back ``slow_seconds``); "slow-writes" (only answers to POST requests are held back: the
    write reaches Gitea, its answer arrives too late).
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.mode = "up"
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

    def _serve(self, client: socket.socket) -> None:
        if self.mode == "down":
            client.close()  # as if the upstream died: the connection ends with no answer
            return
        try:
            first = client.recv(65536)
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            upstream.sendall(first)
        except OSError:
            client.close()
            return
        slow = self.mode == "slow" or (self.mode == "slow-writes" and first.startswith(b"POST"))
        delay = self.slow_seconds if slow else 0.0
        threading.Thread(target=self._pipe, args=(client, upstream, 0.0), daemon=True).start()
        threading.Thread(target=self._pipe, args=(upstream, client, delay), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, delay: float) -> None:
        first = True
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if first and delay:
                    time.sleep(delay)
                first = False
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(2)
