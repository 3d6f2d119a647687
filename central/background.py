"""A uvicorn app on its own bound socket and thread: the platform and the fleet page in tests,
the demo and the tools."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from central.errors import CentralError


class BackgroundServer:
    """Binds `host:port` (0: a free port) at once, serves the config made for the bound port on
    a daemon thread from `start()`, and closes the port on `stop()`."""

    def __init__(
        self, what: str, host: str, port: int, config_for: Callable[[int], uvicorn.Config]
    ) -> None:
        self._what = what
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = uvicorn.Server(config_for(self.port))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> None:
        """Start serving; returns once the port accepts requests."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise CentralError(f"the {self._what} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving and close the port (connections are then refused)."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5.0)
        self._sock.close()
