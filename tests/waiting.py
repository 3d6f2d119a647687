"""Waiting helpers shared by the tests: poll a condition, find a free loopback port."""

from __future__ import annotations

import time
from collections.abc import Callable

from edge.sim.broker import free_port

__all__ = ["free_port", "wait_until"]


def wait_until(predicate: Callable[[], object], timeout_s: float = 15.0) -> bool:
    """Poll `predicate` until it is true (True) or `timeout_s` passes (its last answer)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
