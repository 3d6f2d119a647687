"""HTTP to the platforms under one deadline: name resolution, connect, TLS, headers and body.

Every socket operation gets at most the time that remains of its request's deadline, and a
request the deadline overtakes is abandoned, however the peer trickles, stalls or sends interim
responses. Name resolution runs on a helper thread that is abandoned when it does not answer.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import httpcore

from edge.clock import Clock
from edge.errors import PlatformError

Cause = Literal["dns", "refused", "unreachable", "timeout", "tls"]
Resolve = Callable[[str, int], list[str]]
"""Host name and port to IP addresses (may block; the transport bounds it)."""


class TransportError(PlatformError):
    """The request did not reach an answer: `cause` says why (refused, dns, timeout, tls...)."""

    def __init__(self, cause: Cause, message: str) -> None:
        super().__init__(message)
        self.cause: Cause = cause


class Deadline:
    """A point in monotonic time after which a request is abandoned."""

    def __init__(self, clock: Clock, budget_s: float) -> None:
        self._clock = clock
        self.at = clock.monotonic() + budget_s

    def remaining(self) -> float:
        """Seconds left (negative once overtaken)."""
        return self.at - self._clock.monotonic()

    def limit(self, timeout: float | None, doing: str) -> float:
        """The timeout for the next operation: never longer than what remains."""
        left = self.remaining()
        if left <= 0:
            raise TransportError("timeout", f"no time left for {doing}")
        return left if timeout is None else min(timeout, left)


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "platform_deadline", default=None
)


@contextlib.contextmanager
def deadline_of(deadline: Deadline) -> Iterator[None]:
    """Run the requests of this block under `deadline`."""
    token = _current.set(deadline)
    try:
        yield
    finally:
        _current.reset(token)


def _deadline() -> Deadline:
    deadline = _current.get()
    if deadline is None:
        raise TransportError("timeout", "a platform request needs a deadline")
    return deadline


def system_resolve(host: str, port: int) -> list[str]:
    """The system resolver's addresses of `host` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def resolve_within(resolve: Resolve, host: str, port: int, deadline: Deadline) -> list[str]:
    """Addresses of `host`, or TransportError("dns") when the resolver fails or is too slow."""
    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host.strip("[]")))]
    found: list[list[str]] = []
    failed: list[BaseException] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            found.append(resolve(host, port))
        except (OSError, ValueError) as exc:  # reported to the waiting request
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=lookup, name="platform-resolve", daemon=True).start()
    if not done.wait(max(0.0, deadline.remaining())):
        raise TransportError("dns", f"no answer from the name resolver for {host}")
    if failed or not found or not found[0]:
        detail = str(failed[0]) if failed else "no address"
        raise TransportError("dns", f"cannot resolve {host}: {detail}")
    return found[0]


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and handshake is bounded by the current deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _deadline().limit(timeout, "the answer"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _deadline().limit(timeout, "the request"))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        limit = _deadline().limit(timeout, "the TLS handshake")
        try:
            return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, limit))
        except httpcore.ConnectTimeout:
            raise TransportError("timeout", "the TLS handshake took too long") from None
        except httpcore.ConnectError as exc:
            raise TransportError("tls", f"TLS handshake failed: {exc.__cause__ or exc}") from None

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend with a bounded resolver and the current deadline applied."""

    def __init__(self, resolve: Resolve = system_resolve) -> None:
        self._resolve = resolve
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect to the first resolved address that accepts, within the current deadline."""
        deadline = _deadline()
        failure = TransportError("unreachable", f"no address for {host}")
        for address in resolve_within(self._resolve, host, port, deadline):
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    deadline.limit(timeout, "connecting"),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectTimeout:
                raise TransportError("timeout", f"no connection to {host}:{port} in time") from None
            except httpcore.ConnectError as exc:
                cause = exc.__cause__ or exc
                kind: Cause = (
                    "refused" if isinstance(cause, ConnectionRefusedError) else "unreachable"
                )
                failure = TransportError(kind, f"cannot connect to {host}:{port}: {cause}")
                continue  # the next address, while time remains
            return _DeadlineStream(stream)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Refuse: platforms are reached over TCP only."""
        raise TransportError("unreachable", "platforms are reached over TCP only")

    def sleep(self, seconds: float) -> None:
        """Sleep, but never past the current deadline."""
        self._inner.sleep(min(seconds, max(0.0, _deadline().remaining())))
