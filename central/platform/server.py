"""Run the platform on uvicorn: in the foreground (the command) or on a thread (demo, tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType

import uvicorn
from fastapi import APIRouter

from central.errors import CentralError
from central.platform.api import PlatformSetup, create_app
from central.platform.limits import (
    KEEP_ALIVE_S,
    MAX_CONNECTIONS,
    MAX_HEADER_BYTES,
    REQUEST_TIMEOUT_S,
    bounded_protocol,
)


def wall_ms() -> int:
    """The platform's clock, UTC epoch milliseconds."""
    return int(time.time() * 1000)


def _config(
    setup: PlatformSetup,
    host: str,
    port: int,
    routers: Sequence[APIRouter],
    request_timeout_s: float = REQUEST_TIMEOUT_S,
) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(setup, wall_ms, routers),
        host=host,
        port=port,
        http=bounded_protocol(request_timeout_s),
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=int(KEEP_ALIVE_S),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )


def serve_forever(
    setup: PlatformSetup, host: str, port: int, routers: Sequence[APIRouter] = ()
) -> None:
    """Serve until interrupted."""
    uvicorn.Server(_config(setup, host, port, routers)).run()


class RunningPlatform:
    """A platform serving on a free loopback port on a background thread."""

    def __init__(
        self,
        setup: PlatformSetup,
        host: str = "127.0.0.1",
        port: int = 0,
        routers: Sequence[APIRouter] = (),
        *,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = uvicorn.Server(_config(setup, host, self.port, routers, request_timeout_s))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL gates are configured with."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> RunningPlatform:
        """Start serving; returns once the port accepts requests."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise CentralError("the platform did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and close the port (connections are then refused)."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5.0)
        self._sock.close()

    def __enter__(self) -> RunningPlatform:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
