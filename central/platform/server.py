"""Run the platform on uvicorn: in the foreground (the command) or on a thread (demo, tests)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType

import uvicorn
from fastapi import APIRouter

from central.background import BackgroundServer
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
        self._server = BackgroundServer(
            "platform",
            host,
            port,
            lambda bound: _config(setup, host, bound, routers, request_timeout_s),
        )
        self.host, self.port = self._server.host, self._server.port

    @property
    def url(self) -> str:
        """The base URL gates are configured with."""
        return self._server.url

    def start(self, timeout_s: float = 10.0) -> RunningPlatform:
        """Start serving; returns once the port accepts requests."""
        self._server.start(timeout_s)
        return self

    def stop(self) -> None:
        """Stop serving and close the port (connections are then refused)."""
        self._server.stop()

    def __enter__(self) -> RunningPlatform:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
