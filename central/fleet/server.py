"""Run the fleet page on uvicorn: in the foreground (the command) or on a thread (tests)."""

from __future__ import annotations

import uvicorn

from central.background import BackgroundServer
from central.collect.store import FleetStore
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
        self._server = BackgroundServer(
            "fleet page",
            "127.0.0.1",
            0,
            lambda bound: _config(store, token, "127.0.0.1", bound, refresh_s),
        )
        self.port = self._server.port

    @property
    def url(self) -> str:
        """The page's address on loopback."""
        return self._server.url

    def start(self, timeout_s: float = 10.0) -> RunningFleetPage:
        """Serve on a background thread; return once it answers (within `timeout_s`)."""
        self._server.start(timeout_s)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()
