"""Configuration of the broker connection."""

from __future__ import annotations

from dataclasses import dataclass

from edge.configschema import setting
from edge.errors import PublishError
from edge.ids import visible_text_problem
from edge.wire.broker_url import parse_broker_url


def _broker_url(value: str) -> str | None:
    if not (value.startswith("mqtt://") or value.startswith("mqtts://")):
        return "must start with mqtt:// or mqtts://"
    try:
        parse_broker_url(value)
    except PublishError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class MqttSettings:
    """The central broker."""

    enabled: bool = setting(True, doc="Publish events to the broker (off: outbox only).")
    broker: str = setting("mqtt://localhost:1883", check=_broker_url, doc="Broker URL.")
    client_id: str = setting(
        "", check=visible_text_problem, doc="Client id; empty = gate-edge-{site}.{gate}."
    )
    username: str = setting("", doc="User name, if the broker wants one.")
    password: str = setting("", doc="Password, if the broker wants one.")
    ca_file: str = setting("", doc="CA bundle for mqtts://.")
    cert_file: str = setting("", doc="Device certificate for mutual TLS.")
    key_file: str = setting("", doc="Device private key for mutual TLS.")
    keepalive_s: int = setting(30, minimum=5, maximum=3600, doc="MQTT keepalive.")
    session_expiry_s: int = setting(
        86400, minimum=1, maximum=2**32 - 1, doc="Persistent-session expiry."
    )
    telemetry_interval_s: float = setting(
        60.0, minimum=1.0, maximum=86400.0, doc="Telemetry period."
    )
    command_public_key: str = setting(
        "", doc="Ed25519 key that signs control-plane commands; empty = commands refused."
    )
    command_max_ttl_s: float = setting(
        3600.0, minimum=1.0, maximum=7 * 86400.0, doc="Longest command validity accepted."
    )
    command_clock_skew_s: float = setting(
        120.0, minimum=0.0, maximum=3600.0, doc="Tolerated clock difference to the commander."
    )
    reconnect_min_s: float = setting(
        0.5, minimum=0.05, maximum=60.0, doc="First reconnect delay (doubles up to the maximum)."
    )
    reconnect_max_s: float = setting(
        30.0, minimum=0.1, maximum=3600.0, doc="Longest reconnect delay."
    )
    inflight_window: int = setting(
        200, minimum=1, maximum=10_000, doc="Events published and not yet acknowledged, at most."
    )
