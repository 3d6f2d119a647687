"""Deliver the outbox over MQTT v5 (paho 2.x): persistent session, QoS 1, status and faults."""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge import __version__
from edge.clock import Clock
from edge.core.documents import encode
from edge.errors import GateEdgeError, PublishError
from edge.ids import client_id as gate_client_id
from edge.mqtt.broker_url import parse_broker_url
from edge.mqtt.diagnose import TroubleReporter, diagnose_connack, diagnose_disconnect
from edge.mqtt.settings import MqttSettings
from edge.mqtt.status import GateStatus
from edge.mqtt.topics import GateTopics
from edge.storage.outbox import Outbox

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, bool], None]
_STATUS = -1  # in-flight marker for publishes that are not outbox events
_ACK_FLUSH_S = 0.2
DISPATCH_THREAD = "mqtt-outbox"
NETWORK_FAULT = "mqtt-network"
NETWORK_THREAD_PREFIX = "paho-mqtt-client-"  # paho names its network loop thread so
STATUS_REFRESH_S = 5.0  # how often the dropped-events count is compared with the status
CONTENT_TYPE = "application/json"


def json_properties(packet_type: int = PacketTypes.PUBLISH) -> Properties:
    """MQTT v5 properties the API declares for every gate-edge document: UTF-8 JSON."""
    props = Properties(packet_type)  # type: ignore[no-untyped-call]
    props.PayloadFormatIndicator = 1
    props.ContentType = CONTENT_TYPE
    return props


class OutboxPublisher:
    """Publishes every outbox event at QoS 1 in order, deleting it only on a successful PUBACK.

    Runs paho's network loop plus one dispatcher thread. Messages published and not yet
    acknowledged are re-sent by paho after a reconnect; after a restart the outbox is replayed.

    This is all a short-lived tool run beside the service needs (`gate-edge events test|flush`,
    `doctor`): its own client id (`<client id>-cli-<pid>`), a clean non-persistent session
    (session expiry 0), no Last Will, no status publishes and no subscriptions, so the gate's
    session, queued commands and retained status are left alone. The gate's own connection is
    an EventPublisher, which adds those.
    """

    quiet = True  # a tool reports broker trouble once, on its own terms

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
        self._status_refresh_s = status_refresh_s
        self._next_status_check = 0.0
        self._status_dropped: int | None = None
        self._json = json_properties()
        self._settings, self._outbox, self._version = settings, outbox, version
        self._clock = clock
        self._address = parse_broker_url(settings.broker)
        self._cv = threading.Condition()
        self._inflight: dict[int, int] = {}
        self._early_acks: dict[int, ReasonCode] = {}
        self._cursor = 0
        self._wanted = True
        self._connected = False
        self._stopping = False
        self.status = GateStatus(version)
        self._subscriptions: dict[str, MessageHandler] = {}
        self._refused = 0
        self._thread: threading.Thread | None = None
        self._client_id = ""
        self._connected_at = 0.0
        self._client = self._make_client(site, gate)
        self.trouble = TroubleReporter(settings, self._client_id, logger=log, quiet=self.quiet)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (retrying with backoff) and start delivering."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._session_expiry_s()
        try:
            self._client.connect_async(
                self._address.host,
                self._address.port,
                keepalive=self._settings.keepalive_s,
                clean_start=self._clean_start(),
                properties=props,
            )
            self._client.loop_start()
        except (OSError, ValueError) as exc:
            raise PublishError(f"cannot start MQTT client: {exc}") from exc
        self._outbox.set_listener(self._wake)
        self._start_dispatcher()

    def dispatcher_alive(self) -> bool:
        """The thread delivering the outbox runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def network_alive(self) -> bool:
        """paho's network loop thread runs."""
        name = NETWORK_THREAD_PREFIX + self._client_id
        return any(t.name == name and t.is_alive() for t in threading.enumerate())

    def revive(self) -> None:
        """Start the dispatcher and the network loop again if either died (not after stop)."""
        with self._cv:
            if self._stopping or self._thread is None:
                return
        if not self.dispatcher_alive():
            self._start_dispatcher()
        if not self.network_alive():
            self._client.loop_start()

    def _start_dispatcher(self) -> None:
        self._thread = threading.Thread(target=self._dispatch, name=DISPATCH_THREAD, daemon=True)
        self._thread.start()

    def stop(self, drain_timeout_s: float = 0.0) -> None:
        """Try to deliver the outbox for up to drain_timeout_s, announce offline, disconnect."""
        if drain_timeout_s > 0:
            self.wait_drained(drain_timeout_s)
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._outbox.set_listener(None)
        if self.connected:
            self._announce_offline()
        self._client.disconnect()
        self._client.loop_stop()
        self._outbox.flush_acks()

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
    def connected(self) -> bool:
        return self._connected

    @property
    def refused(self) -> int:
        """Events the broker refused (e.g. not authorized); they stay in the outbox."""
        return self._refused

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
        return self.status.faults()

    def set_trust(self, summary: dict[str, Any]) -> None:
        """Describe the trust list and denylist in force on the retained status document."""
        if self.status.set_trust(summary):
            self._republish_status()

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        """Publish a non-event message (telemetry) if connected; dropped while offline."""
        if self.connected:
            self._send(topic, payload, qos, retain, _STATUS)

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """A tool's connection does not subscribe: it would take the gate's messages."""
        raise PublishError("a tool connection does not subscribe (it would take the gate's)")

    def resubscribe(self, topic_filter: str) -> bool:
        """Subscribe again to a filter already subscribed, so the broker sends its retained
        messages once more; False when not connected (they come anyway on the next connect)."""
        with self._cv:
            known = topic_filter in self._subscriptions
            connected = self._connected
        if not known or not connected:
            return False
        result = self._client.subscribe(topic_filter, options=SubscribeOptions(qos=1))
        return result[0] == mqtt.MQTT_ERR_SUCCESS

    # --- paho callbacks (network thread) -----------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            self.trouble.report(diagnose_connack(reason, self._client_id))
            return
        self.trouble.connected()
        self._connected_at = self._clock.monotonic()
        log.info("connected to %s:%s", self._address.host, self._address.port)
        with self._cv:
            filters = list(self._subscriptions)
            self._connected = True
            self._cv.notify_all()
        if filters:
            client.subscribe([(f, SubscribeOptions(qos=1)) for f in filters])
        self._republish_status()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        with self._cv:
            was_connected, self._connected = self._connected, False
        named = diagnose_disconnect(reason, self._client_id)
        if named is not None:
            self.trouble.report(named)
        elif not was_connected and not self._stopping:
            self.trouble.connection_failed()  # e.g. a TLS alert before CONNACK
        elif self._wanted:
            log.info("disconnected from broker: %s", reason)
            if not self._stopping:
                self.trouble.session_ended(self._clock.monotonic() - self._connected_at)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self.trouble.connection_failed()

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Any
    ) -> None:
        with self._cv:
            rowid = self._inflight.pop(mid, None)
            if rowid is None:
                self._early_acks[mid] = reason
                return
            self._cv.notify_all()
        self._settle(rowid, reason)

    # --- internals ---------------------------------------------------------------------------

    def _settle(self, rowid: int, reason: ReasonCode) -> None:
        if rowid == _STATUS:
            return
        if reason.is_failure:
            self._refused += 1
            log.error("broker refused event %s: %s", rowid, reason)
            self.set_fault("publish-refused", f"broker refused events: {reason}")
            return
        self._outbox.ack(rowid)

    def _send(self, topic: str, payload: bytes, qos: int, retain: bool, rowid: int) -> Any:
        try:
            info = self._client.publish(
                topic, payload, qos=qos, retain=retain, properties=self._json
            )
        except (ValueError, RuntimeError) as exc:
            raise PublishError(f"cannot publish to {topic}: {exc}") from exc
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise PublishError(f"cannot publish to {topic}: {mqtt.error_string(info.rc)}")
        with self._cv:
            early = self._early_acks.pop(info.mid, None)
            if early is None:
                self._inflight[info.mid] = rowid
        if early is not None:
            self._settle(rowid, early)
        return info

    def _dispatch(self) -> None:
        window = self._settings.inflight_window
        while True:
            with self._cv:
                self._cv.wait_for(
                    lambda: self._stopping or (self._connected and len(self._inflight) < window),
                    timeout=_ACK_FLUSH_S,
                )
                if self._stopping:
                    return
                room = window - len(self._inflight) if self._connected else 0
            try:
                self._outbox.flush_acks()
                entries = self._outbox.pending(self._cursor, room) if room > 0 else []
                for entry in entries:
                    self._send(self.topics.events, entry.payload, 1, False, entry.rowid)
                    self._cursor = entry.rowid
                self._refresh_status()
            except GateEdgeError as exc:
                log.error("outbox delivery failed: %s", exc)
                self._clock.sleep(1.0)
                continue
            except Exception as exc:
                # Unforeseen: report it and go on delivering rather than let the thread die.
                log.exception("outbox delivery failed")
                self.set_fault(DISPATCH_THREAD, f"delivery error: {type(exc).__name__}")
                self._clock.sleep(1.0)
                continue
            self.clear_fault(DISPATCH_THREAD)
            if not entries:
                with self._cv:
                    self._cv.wait(_ACK_FLUSH_S)

    def _wake(self) -> None:
        with self._cv:
            self._cv.notify_all()

    # --- what the gate's connection adds (none of it for a tool) ------------------------------

    def _client_id_for(self, configured: str) -> str:
        return f"{configured}-cli-{os.getpid()}"

    def _session_expiry_s(self) -> int:
        return 0

    def _clean_start(self) -> bool:
        return True

    def _prepare_client(self, client: mqtt.Client) -> None:
        """Before the first connect (the gate sets its Last Will here)."""

    def _announce_offline(self) -> None:
        """At an orderly stop while connected (the gate publishes its offline status)."""

    def _republish_status(self) -> None:
        """After a connect or a fault change (the gate re-publishes its retained status)."""

    def _refresh_status(self) -> None:
        """On every dispatcher round (the gate checks the dropped-events count)."""

    def _make_client(self, site: str, gate: str) -> mqtt.Client:
        settings = self._settings
        client_id = self._client_id_for(settings.client_id or gate_client_id(site, gate))
        self._client_id = client_id
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        if self._address.tls:
            try:
                client.tls_set(
                    ca_certs=settings.ca_file or None,
                    certfile=settings.cert_file or None,
                    keyfile=settings.key_file or None,
                    tls_version=ssl.PROTOCOL_TLS_CLIENT,
                )
            except (OSError, ValueError, ssl.SSLError) as exc:
                raise PublishError(f"TLS set-up failed: {exc}") from exc
        self._prepare_client(client)
        # paho sleeps these as seconds; fractions work although the stub says int
        client.reconnect_delay_set(
            settings.reconnect_min_s,  # type: ignore[arg-type]
            settings.reconnect_max_s,  # type: ignore[arg-type]
        )
        client.max_inflight_messages_set(settings.inflight_window + 20)
        client.max_queued_messages_set(0)
        client.on_connect = self._guarded(self._on_connect)
        client.on_disconnect = self._guarded(self._on_disconnect)
        client.on_connect_fail = self._guarded(self._on_connect_fail)
        client.on_publish = self._guarded(self._on_publish)
        return client

    def _guarded(self, callback: Callable[..., None]) -> Callable[..., None]:
        """paho re-raises a callback's exception and its network loop thread dies of it: log
        and report instead, and keep the connection serving."""

        name = callback.__name__.lstrip("_")

        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as exc:
                log.exception("MQTT %s failed", name)
                self.set_fault(NETWORK_FAULT, f"{name}: {type(exc).__name__}")

        return guarded


class EventPublisher(OutboxPublisher):
    """The gate's own connection: a persistent session under the gate's client id, the Last
    Will, the retained status document, and the subscriptions of the control plane."""

    quiet = False

    def _client_id_for(self, configured: str) -> str:
        return configured

    def _session_expiry_s(self) -> int:
        return self._settings.session_expiry_s

    def _clean_start(self) -> bool:
        return False

    def _prepare_client(self, client: mqtt.Client) -> None:
        # Set here too (not only before each connect) so the will exists from the start.
        self._on_pre_connect(client, None)
        client.on_pre_connect = self._guarded(self._on_pre_connect)

    def _announce_offline(self) -> None:
        with contextlib.suppress(RuntimeError, ValueError, GateEdgeError):
            info = self._publish_status("offline", self._clock.now())
            info.wait_for_publish(timeout=2.0)

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Receive messages for a filter (QoS 1); renewed after every reconnect."""

        def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            try:
                handler(message.topic, bytes(message.payload), bool(message.retain))
            except Exception:
                log.exception("handler for %s failed", message.topic)

        self._client.message_callback_add(topic_filter, on_message)
        # Under the lock: either _on_connect's snapshot includes this filter or we see connected.
        with self._cv:
            self._subscriptions[topic_filter] = handler
            connected = self._connected
        if connected:
            self._client.subscribe(topic_filter, options=SubscribeOptions(qos=1))

    def _publish_status(self, state: str, now: float) -> Any:
        dropped = self._outbox.dropped()
        document = self.status.document(state, int(now * 1000), dropped)
        info = self._send(self.topics.status, encode(document), 1, True, _STATUS)
        self._status_dropped = dropped
        return info

    def _republish_status(self) -> None:
        """Best effort: a status that cannot go out now is re-sent on the next connect."""
        if self.connected:
            try:
                self._publish_status("online", self._clock.now())
            except GateEdgeError as exc:
                log.error("status not published: %s", exc)

    def _refresh_status(self) -> None:
        """Re-publish the retained status when the outbox dropped events since the last one.

        Checked at most every status_refresh_s (the dispatcher calls this on every round).
        """
        if not self.connected or self._status_dropped is None:
            return  # nothing published yet: _on_connect publishes the first status
        now = self._clock.monotonic()
        if now < self._next_status_check:
            return
        self._next_status_check = now + self._status_refresh_s
        if self._outbox.dropped() != self._status_dropped:
            self._republish_status()

    def _offline_will(self) -> bytes:
        return encode(self.status.last_will(self._outbox.dropped()))

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        """Before every (re)connect: the Last Will carries the current dropped-events count."""
        try:
            will = self._offline_will()
        except GateEdgeError as exc:
            log.warning("Last Will not refreshed: %s", exc)
            return
        client.will_set(
            self.topics.status,
            will,
            qos=1,
            retain=True,
            properties=json_properties(PacketTypes.WILLMESSAGE),
        )
