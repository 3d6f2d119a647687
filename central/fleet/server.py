"""Run the fleet page on uvicorn: in the foreground (the command) or on a thread (tests)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from central.collect.store import FleetStore
from central.errors import CentralError
from central.fleet.web import create_app


def _config(
    store: FleetStore, token: str, host: str, port: int, refresh_s: float
) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(store, token, refresh_s),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )


def serve_forever(store: FleetStore, token: str, host: str, port: int, refresh_s: float) -> None:
    """Serve until interrupted."""
    uvicorn.Server(_config(store, token, host, port, refresh_s)).run()


class RunningFleetPage:
    """The fleet page on a free loopback port on a background thread."""

    def __init__(self, store: FleetStore, token: str, refresh_s: float = 0.5) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._server = uvicorn.Server(_config(store, token, "127.0.0.1", self.port, refresh_s))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> RunningFleetPage:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise CentralError("the fleet page did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5.0)
        self._sock.close()
