"""A TCP proxy in front of the test database that a test can cut and restore.

Cutting it is what clients see when PostgreSQL stops: every open connection is reset
and new ones are refused. Stalling it is a host that takes connections and never
answers (a hung server, a half-dead network). The shared test cluster itself is never
touched: only the connections of the app pointed at the proxy are affected.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, as a dead server's peer


def _close(sock: socket.socket) -> None:
    """Reset ``sock``; shut down first, as closing alone wakes no thread blocked reading it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class TcpProxy:
    """Forward 127.0.0.1:``port`` to ``target``; ``cut``, ``stall`` and ``restore`` on demand."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stalled = False
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.restore()

    def restore(self) -> None:
        """Listen and forward again (after ``cut`` or ``stall``: what a stall held is reset)."""
        self._stop_listening()
        self._drop_connections()
        self._stalled = False
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Reset every open connection and refuse new ones, like a database that stopped."""
        self._stop_listening()
        self._drop_connections()

    def stall(self) -> None:
        """Reset every open connection, then take new ones and never answer them."""
        self._stalled = True
        self._drop_connections()

    def close(self) -> None:
        """Stop the proxy for good."""
        self.cut()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            listener.close()

    def _drop_connections(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed: cut or restored
                return
            with self._lock:
                self._sockets.add(client)
            if not self._stalled:
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            _close(client)
            return
        with self._lock:
            self._sockets.add(upstream)
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):  # one side ended: end both, as a real peer would
            with self._lock:
                self._sockets.discard(sock)
            _close(sock)


@contextmanager
def tcp_proxy(target_host: str, target_port: int) -> Iterator[TcpProxy]:
    """Yield a proxy to ``target``; it is cut when the block ends."""
    proxy = TcpProxy(target_host, target_port)
    try:
        yield proxy
    finally:
        proxy.close()
