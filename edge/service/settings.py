"""Configuration of the running service."""

from __future__ import annotations

from dataclasses import dataclass

from edge.configschema import setting


@dataclass(frozen=True)
class ServiceSettings:
    """The running service."""

    shutdown_flush_s: float = setting(
        5.0, minimum=0.0, maximum=120.0, doc="On SIGTERM, try this long to deliver the outbox."
    )
