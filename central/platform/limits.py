"""The reference platform's own limits against slow or greedy clients (a reverse proxy in front
of it should set its own as well; docs/platform-api.md shows one)."""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_TIMEOUT_S = 10.0
"""From a connection's first byte (or its previous answer) to the end of the next request's
headers and body: a client that trickles them is disconnected."""
KEEP_ALIVE_S = 5.0
MAX_CONNECTIONS = 256
"""Beyond this many connections or requests at once, uvicorn answers 503 at once."""
MAX_HEADER_BYTES = 16 * 1024


def bounded_protocol(request_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol with a deadline for each request to arrive whole."""

    class BoundedH11Protocol(H11Protocol):
        """Closes a connection whose request is not in within `request_timeout_s`."""

        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(request_timeout_s, self._overdue)

        def _overdue(self) -> None:
            # Close while a request is still arriving: no headers yet (or, after an answer, none
            # of the next request's), or a body still coming in. A request being judged or
            # answered is left alone.
            cycle = self.cycle
            arriving = cycle is None or cycle.response_complete
            if arriving or self.conn.their_state is h11.SEND_BODY:
                self.transport.close()

    return BoundedH11Protocol
