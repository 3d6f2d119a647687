"""Parse the broker URL setting (mqtt://host:port or mqtts://host:port)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from edge.errors import PublishError


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker listens and whether to speak TLS."""

    host: str
    port: int
    tls: bool


def parse_broker_url(url: str) -> BrokerAddress:
    """mqtt:// defaults to port 1883, mqtts:// to 8883; anything else is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise PublishError(f"broker URL {url!r}: {exc}") from exc
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise PublishError(f"broker URL {url!r}: expected mqtt://host:port or mqtts://host:port")
    if port == 0:
        raise PublishError(f"broker URL {url!r}: port 0 is not a port to connect to")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(parts.hostname, port or (8883 if tls else 1883), tls)
