"""A platform that has gone silent: its port still accepts connections and never answers."""

from __future__ import annotations

import socket


class SilentPort:
    """Listens on (host, port) and never reads or answers, like a hung server."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(128)
        self.host, self.port = self._sock.getsockname()[:2]

    @property
    def url(self) -> str:
        """The base URL of the silent platform."""
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        """Stop listening."""
        self._sock.close()
