"""Periodic telemetry: service metrics from a provider plus outbox depth, age and drops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from edge.clock import Clock
from edge.errors import GateEdgeError
from edge.faults import Fault
from edge.mqtt.publisher import EventPublisher
from edge.storage.outbox import Outbox
from edge.wire.documents import encode, telemetry_document

log = logging.getLogger(__name__)

TELEMETRY_THREAD = "mqtt-telemetry"

MetricsProvider = Callable[[], dict[str, Any]]


class TelemetryPublisher:
    """Publishes one telemetry document every interval while connected (QoS 0, not queued).

    The provider returns service metrics; the schema requires fps, decode_ms_p50, decode_ms_p95,
    thermometer and clock_offset_s (null where unknown). outbox_depth, outbox_oldest_age_s,
    outbox_dropped and uptime_s are added here.
    """

    def __init__(
        self,
        publisher: EventPublisher,
        outbox: Outbox,
        provider: MetricsProvider,
        interval_s: float,
        clock: Clock,
    ) -> None:
        self._publisher, self._outbox, self._provider = publisher, outbox, provider
        self._interval_s = interval_s
        self._clock = clock
        self._started = self._clock.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> dict[str, Any]:
        """Build one telemetry document now."""
        metrics = dict(self._provider())
        oldest = self._outbox.oldest_age_s()
        metrics.update(
            outbox_depth=self._outbox.depth(),
            outbox_oldest_age_s=round(oldest, 3) if oldest is not None else None,
            outbox_dropped=self._outbox.dropped(),
            uptime_s=round(self._clock.monotonic() - self._started, 3),
        )
        return telemetry_document(int(self._clock.now() * 1000), metrics)

    def publish_once(self) -> None:
        """Build a telemetry document and send it now (dropped when offline)."""
        self._publisher.publish(self._publisher.topics.telemetry, encode(self.sample()))

    name = TELEMETRY_THREAD

    def start(self) -> None:
        """Start the thread that sends a telemetry document every interval."""
        self._thread = threading.Thread(target=self._run, name=TELEMETRY_THREAD, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """The telemetry thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def revive(self) -> None:
        """Start the telemetry thread again if it died (not after stop)."""
        if self._thread is not None and not self._stop.is_set() and not self.alive():
            self.start()

    def heartbeat(self) -> float | None:
        """None: the telemetry thread is watched by its liveness."""
        return None

    def stop(self) -> None:
        """Stop the telemetry thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.publish_once()
            except GateEdgeError as exc:
                log.warning("telemetry not published: %s", exc)
            except Exception as exc:
                log.exception("telemetry provider failed")
                self._publisher.set_fault(
                    Fault.MQTT_TELEMETRY, f"sample failed: {type(exc).__name__}"
                )
            else:
                self._publisher.clear_fault(Fault.MQTT_TELEMETRY)
