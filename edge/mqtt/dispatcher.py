"""Deliver the outbox over a broker connection: in order, QoS 1, deleted only on PUBACK."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from paho.mqtt.reasoncodes import ReasonCode

from edge.clock import Clock
from edge.errors import GateEdgeError
from edge.faults import Fault
from edge.mqtt.connection import BrokerConnection
from edge.storage.outbox import Outbox

log = logging.getLogger("edge.mqtt.publisher")  # one journal name for the gate's MQTT link

DISPATCH_THREAD = "mqtt-outbox"
_ACK_FLUSH_S = 0.2


class OutboxDispatcher:
    """One thread publishing every outbox event to `topic` at QoS 1 in order, at most the
    configured in-flight window at a time, deleting an event only on a successful PUBACK.

    Messages published and not yet acknowledged are re-sent by paho after a reconnect; after a
    restart the outbox is replayed. A refused event stays in the outbox and is counted.
    """

    def __init__(
        self,
        connection: BrokerConnection,
        outbox: Outbox,
        topic: str,
        *,
        clock: Clock,
        on_fault: Callable[[str, str], None],
        on_clear: Callable[[str], None],
        after_round: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_fault`/`on_clear` show and lift delivery faults; `after_round` runs after every
        delivery round (the gate checks its dropped-events count there)."""
        self._connection, self._outbox, self._topic = connection, outbox, topic
        self._clock = clock
        self._on_fault, self._on_clear, self._after_round = on_fault, on_clear, after_round
        self._cv = connection.changed
        self._window = connection.settings.inflight_window
        self._cursor = 0
        self._refused = 0
        self._thread: threading.Thread | None = None
        connection.on_acked(self._settle)

    def start(self) -> None:
        """Start delivering; the outbox wakes the thread when an event is stored."""
        self._outbox.set_listener(self._wake)
        self._start_thread()

    @property
    def started(self) -> bool:
        """Tell whether start() was called."""
        return self._thread is not None

    def alive(self) -> bool:
        """The delivering thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def revive(self) -> None:
        """Start the thread again if it died (not after stop)."""
        if not self.alive() and not self._connection.is_stopping:
            self._start_thread()

    def stop(self) -> None:
        """Stop the thread (the connection has been told it is stopping)."""
        with self._cv:
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._outbox.set_listener(None)

    def wait_drained(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (every event acknowledged); False on timeout."""
        deadline = self._clock.monotonic() + timeout_s
        while True:
            self._outbox.flush_acks()
            if self._outbox.depth() == 0:
                return True
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                return False
            with self._cv:
                self._cv.wait(min(remaining, 0.05))

    @property
    def refused(self) -> int:
        """Events the broker refused (e.g. not authorized); they stay in the outbox."""
        return self._refused

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name=DISPATCH_THREAD, daemon=True)
        self._thread.start()

    def _settle(self, rowid: int, reason: ReasonCode) -> None:
        if reason.is_failure:
            self._refused += 1
            log.error("broker refused event %s: %s", rowid, reason)
            self._on_fault(Fault.PUBLISH_REFUSED, f"broker refused events: {reason}")
            return
        self._outbox.ack(rowid)

    def _run(self) -> None:
        connection = self._connection
        window = self._window
        while True:
            with self._cv:
                self._cv.wait_for(
                    lambda: (
                        connection.is_stopping
                        or (connection.connected and connection.inflight() < window)
                    ),
                    timeout=_ACK_FLUSH_S,
                )
                if connection.is_stopping:
                    return
                room = window - connection.inflight() if connection.connected else 0
            try:
                self._outbox.flush_acks()
                entries = self._outbox.pending(self._cursor, room) if room > 0 else []
                for entry in entries:
                    connection.send(
                        self._topic, entry.payload, qos=1, retain=False, token=entry.rowid
                    )
                    self._cursor = entry.rowid
                self._after_round()
            except GateEdgeError as exc:
                log.error("outbox delivery failed: %s", exc)
                self._clock.sleep(1.0)
                continue
            except Exception as exc:
                # Unforeseen: report it and go on delivering rather than let the thread die.
                log.exception("outbox delivery failed")
                self._on_fault(Fault.MQTT_OUTBOX, f"delivery error: {type(exc).__name__}")
                self._clock.sleep(1.0)
                continue
            self._on_clear(Fault.MQTT_OUTBOX)
            if not entries:
                with self._cv:
                    self._cv.wait(_ACK_FLUSH_S)

    def _wake(self) -> None:
        with self._cv:
            self._cv.notify_all()
