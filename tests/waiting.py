"""Waiting helpers shared by the tests: poll a condition, find a free loopback port."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout_s: float = 15.0) -> bool:
    """Poll `predicate` until it is true (True) or `timeout_s` passes (its last answer)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
