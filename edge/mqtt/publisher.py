"""The gate's MQTT publishers: the outbox over one broker connection, plus, for the gate itself,
the retained status, the Last Will and the control plane's subscriptions."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

import paho.mqtt.client as mqtt

from edge import __version__
from edge.clock import Clock
from edge.errors import GateEdgeError, PublishError
from edge.ids import client_id as gate_client_id
from edge.mqtt.certinfo import certificate_expiry
from edge.mqtt.connection import (
    BrokerConnection,
)
from edge.mqtt.dispatcher import OutboxDispatcher
from edge.mqtt.settings import MqttSettings
from edge.mqtt.status import GateStatus
from edge.mqtt.subscriptions import MessageHandler, Subscriptions
from edge.storage.outbox import Outbox
from edge.wire.documents import encode
from edge.wire.topics import GateTopics

log = logging.getLogger(__name__)


STATUS_REFRESH_S = 5.0  # how often the dropped-events count is compared with the status


class OutboxPublisher:
    """Publishes every outbox event at QoS 1 in order over one broker connection.

    This is all a short-lived tool run beside the service needs (`gate-edge events test|flush`,
    `doctor`): its own client id (`<client id>-cli-<pid>`), a clean non-persistent session
    (session expiry 0), no Last Will, no status publishes and no subscriptions, so the gate's
    session, queued commands and retained status are left alone. The gate's own connection is
    an EventPublisher, which adds those.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        site: str,
        gate: str,
        outbox: Outbox,
        version: str = __version__,
        clock: Clock,
        status_refresh_s: float = STATUS_REFRESH_S,
    ) -> None:
        self.topics = GateTopics(site, gate)
        self.status = GateStatus(version, certificate_expiry(settings.cert_file))
        self._outbox, self._clock = outbox, clock
        self._status_refresh_s = status_refresh_s
        configured = settings.client_id or gate_client_id(site, gate)
        self.connection = self._connect_to(settings, configured)
        self.dispatcher = OutboxDispatcher(
            self.connection,
            outbox,
            self.topics.events,
            clock=clock,
            on_fault=self.set_fault,
            on_clear=self.clear_fault,
            after_round=self._after_round,
        )
        self.trouble = self.connection.trouble

    def _connect_to(self, settings: MqttSettings, configured: str) -> BrokerConnection:
        return BrokerConnection(
            settings,
            f"{configured}-cli-{os.getpid()}",
            clock=self._clock,
            persistent=False,
            quiet=True,  # a tool reports broker trouble once, on its own terms
            on_fault=self.set_fault,
        )

    @property
    def _client(self) -> mqtt.Client:
        return self.connection.client

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (retrying with backoff) and start delivering."""
        self.connection.start()
        self.dispatcher.start()

    def dispatcher_alive(self) -> bool:
        """The thread delivering the outbox runs."""
        return self.dispatcher.alive()

    def network_alive(self) -> bool:
        """paho's network loop thread runs."""
        return self.connection.network_alive()

    def revive(self) -> None:
        """Start the dispatcher and the network loop again if either died (not after stop)."""
        if self.connection.is_stopping or not self.dispatcher.started:
            return
        self.dispatcher.revive()
        self.connection.revive()

    def stop(self, drain_timeout_s: float = 0.0) -> None:
        """Try to deliver the outbox for up to drain_timeout_s, announce offline, disconnect."""
        if drain_timeout_s > 0:
            self.wait_drained(drain_timeout_s)
        self.connection.stopping()
        self.dispatcher.stop()
        self._announce_offline()
        self.connection.stop()
        self._outbox.flush_acks()

    def wait_drained(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (every event acknowledged); False on timeout."""
        return self.dispatcher.wait_drained(timeout_s)

    @property
    def connected(self) -> bool:
        """Tell whether the gate is connected to the broker now."""
        return self.connection.connected

    @property
    def refused(self) -> int:
        """Events the broker refused (e.g. not authorized); they stay in the outbox."""
        return self.dispatcher.refused

    # --- status, faults, other messages ------------------------------------------------------

    def set_fault(self, name: str, detail: str) -> None:
        """Report a fault on the retained status document."""
        if self.status.set_fault(name, detail):
            self._republish_status()

    def clear_fault(self, name: str) -> None:
        """Remove a fault from the retained status document."""
        if self.status.clear_fault(name):
            self._republish_status()

    def faults(self) -> dict[str, str]:
        """The faults on the status document now, by name."""
        return self.status.faults()

    def set_trust(self, summary: dict[str, Any]) -> None:
        """Describe the trust list and denylist in force on the retained status document."""
        if self.status.set_trust(summary):
            self._republish_status()

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        """Publish a non-event message (telemetry) if connected; dropped while offline."""
        if self.connected:
            self.connection.send(topic, payload, qos=qos, retain=retain)

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """A tool's connection does not subscribe: it would take the gate's messages."""
        raise PublishError("a tool connection does not subscribe (it would take the gate's)")

    def resubscribe(self, topic_filter: str) -> bool:
        """A tool's connection has no subscriptions to renew."""
        return False

    # --- what the gate's connection adds (none of it for a tool) ------------------------------

    def _announce_offline(self) -> None:
        """At an orderly stop (the gate publishes its offline status, if connected, as the last
        status it sends)."""

    def _republish_status(self) -> None:
        """After a connect or a fault change (the gate re-publishes its retained status)."""

    def _after_round(self) -> None:
        """On every dispatcher round (the gate checks the dropped-events count)."""


class EventPublisher(OutboxPublisher):
    """The gate's own connection: a persistent session under the gate's client id, the Last
    Will, the retained status document, and the subscriptions of the control plane."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        site: str,
        gate: str,
        outbox: Outbox,
        version: str = __version__,
        clock: Clock,
        status_refresh_s: float = STATUS_REFRESH_S,
    ) -> None:
        self._status_dropped: int | None = None
        self._next_status_check = 0.0
        # Status sends are serialised, and none follows the offline one of an orderly stop: a
        # fault cleared while the service stops must not leave "online" as the retained status.
        self._status_lock = threading.Lock()
        self._status_closed = False
        super().__init__(
            settings,
            site=site,
            gate=gate,
            outbox=outbox,
            version=version,
            clock=clock,
            status_refresh_s=status_refresh_s,
        )
        self.subscriptions = Subscriptions(self.connection)
        self.connection.on_connected(lambda client: self._republish_status())

    def _connect_to(self, settings: MqttSettings, configured: str) -> BrokerConnection:
        return BrokerConnection(
            settings,
            configured,
            clock=self._clock,
            persistent=True,
            quiet=False,
            on_fault=self.set_fault,
            will=self._offline_will,
        )

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Receive messages for a filter (QoS 1); renewed after every reconnect."""
        self.subscriptions.subscribe(topic_filter, handler)

    def resubscribe(self, topic_filter: str) -> bool:
        """Subscribe again to a filter already subscribed, so the broker sends its retained
        messages once more; False when not connected (they come anyway on the next connect)."""
        return self.subscriptions.resubscribe(topic_filter)

    def _announce_offline(self) -> None:
        with self._status_lock:
            self._status_closed = True
            if not self.connected:
                return
            with contextlib.suppress(RuntimeError, ValueError, GateEdgeError):
                info = self._publish_status("offline", self._clock.now())
                info.wait_for_publish(timeout=2.0)

    def _publish_status(self, state: str, now: float) -> Any:
        dropped = self._outbox.dropped()
        document = self.status.document(state, int(now * 1000), dropped)
        info = self.connection.send(self.topics.status, encode(document), qos=1, retain=True)
        self._status_dropped = dropped
        return info

    def _republish_status(self) -> None:
        """Best effort: a status that cannot go out now is re-sent on the next connect."""
        with self._status_lock:
            if self._status_closed or not self.connected:
                return
            try:
                self._publish_status("online", self._clock.now())
            except GateEdgeError as exc:
                log.error("status not published: %s", exc)

    def _after_round(self) -> None:
        """Re-publish the retained status when the outbox dropped events since the last one.

        Checked at most every status_refresh_s (the dispatcher calls this on every round).
        """
        if not self.connected or self._status_dropped is None:
            return  # nothing published yet: the connect publishes the first status
        now = self._clock.monotonic()
        if now < self._next_status_check:
            return
        self._next_status_check = now + self._status_refresh_s
        if self._outbox.dropped() != self._status_dropped:
            self._republish_status()

    def _offline_will(self) -> tuple[str, bytes] | None:
        """Before every (re)connect: the Last Will carries the current dropped-events count."""
        try:
            return self.topics.status, encode(self.status.last_will(self._outbox.dropped()))
        except GateEdgeError as exc:
            log.warning("Last Will not refreshed: %s", exc)
            return None
