"""The broker connection (paho 2.x, MQTT v5): client, TLS, Last Will, reconnect and diagnosis."""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.clock import Clock
from edge.errors import PublishError
from edge.faults import Fault
from edge.mqtt.diagnose import TroubleReporter, diagnose_connack, diagnose_disconnect
from edge.mqtt.settings import MqttSettings
from edge.wire.broker_url import parse_broker_url

log = logging.getLogger("edge.mqtt.publisher")  # one journal name for the gate's MQTT link

NETWORK_THREAD_PREFIX = "paho-mqtt-client-"  # paho names its network loop thread so
CONTENT_TYPE = "application/json"
# A broker may answer a write its ACL forbids by closing the connection (MQTT 3.1.1 §3.3.5;
# mosquitto ≥ 2.0.18 sends the refusing PUBACK and then resets): a close this soon after an
# unacknowledged publish is told to the diagnosis as such.
CLOSED_AFTER_PUBLISH_S = 2.0

AckListener = Callable[[int, ReasonCode], None]
"""Told when the broker acknowledges a publish made with a token: (token, reason)."""
Will = Callable[[], tuple[str, bytes] | None]
"""The Last Will to leave before each (re)connect: (topic, payload), or None to keep the last."""


def json_properties(packet_type: int = PacketTypes.PUBLISH) -> Properties:
    """MQTT v5 properties the API declares for every gate-edge document: UTF-8 JSON."""
    props = Properties(packet_type)  # type: ignore[no-untyped-call]
    props.PayloadFormatIndicator = 1
    props.ContentType = CONTENT_TYPE
    return props


class BrokerConnection:
    """One MQTT client connected in the background and reconnecting with backoff.

    It names broker trouble (refused, TLS, unreachable) through its TroubleReporter, tells its
    listeners when it connects and how the broker answered each tracked publish, and keeps
    paho's network thread alive through a callback's exception (reported via `on_fault`).
    """

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        clock: Clock,
        persistent: bool,
        quiet: bool,
        on_fault: Callable[[str, str], None],
        will: Will | None = None,
    ) -> None:
        """`persistent`: a session kept by the broker (session expiry from the settings, no
        clean start); otherwise a clean session that ends with the connection."""
        self.client_id = client_id
        self.settings = settings
        self.address = parse_broker_url(settings.broker)
        self.changed = threading.Condition()  # notified on (dis)connect and on every ack
        self._clock, self._persistent, self._on_fault, self._will = (
            clock,
            persistent,
            on_fault,
            will,
        )
        self._connected = False
        self._stopping = False
        self._connected_at = 0.0
        self._json = json_properties()
        self._inflight: dict[int, int | None] = {}  # mid -> token of a tracked publish
        self._last_sent: tuple[str, float] = ("", 0.0)  # topic and time of the latest publish
        self._early_acks: dict[int, ReasonCode] = {}
        self._connect_listeners: list[Callable[[mqtt.Client], None]] = []
        self._ack_listeners: list[AckListener] = []
        self.trouble = TroubleReporter(settings, client_id, logger=log, quiet=quiet)
        self.client = self._make_client()

    # --- listeners ---------------------------------------------------------------------------

    def on_connected(self, listener: Callable[[mqtt.Client], None]) -> None:
        """Call `listener(client)` after every successful connect (network thread)."""
        self._connect_listeners.append(listener)

    def on_acked(self, listener: AckListener) -> None:
        """Call `listener(token, reason)` when a publish made with a token is acknowledged."""
        self._ack_listeners.append(listener)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background, retrying with backoff."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.settings.session_expiry_s if self._persistent else 0
        try:
            self.client.connect_async(
                self.address.host,
                self.address.port,
                keepalive=self.settings.keepalive_s,
                clean_start=not self._persistent,
                properties=props,
            )
            self.client.loop_start()
        except (OSError, ValueError) as exc:
            raise PublishError(f"cannot start MQTT client: {exc}") from exc

    def stopping(self) -> None:
        """From now on a disconnect is expected (no trouble reported for it)."""
        with self.changed:
            self._stopping = True
            self.changed.notify_all()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.stopping()
        self.client.disconnect()
        self.client.loop_stop()

    def network_alive(self) -> bool:
        """paho's network loop thread runs."""
        name = NETWORK_THREAD_PREFIX + self.client_id
        return any(t.name == name and t.is_alive() for t in threading.enumerate())

    def revive(self) -> None:
        """Start the network loop again if it died."""
        if not self.network_alive():
            self.client.loop_start()

    @property
    def connected(self) -> bool:
        """Tell whether the broker has accepted the connection and it still stands."""
        return self._connected

    @property
    def is_stopping(self) -> bool:
        """Tell whether stopping() was called: a disconnect from now on is expected."""
        return self._stopping

    def inflight(self) -> int:
        """Tracked publishes not yet acknowledged (call with `changed` held)."""
        return len(self._inflight)

    # --- publishing --------------------------------------------------------------------------

    def send(
        self, topic: str, payload: bytes, *, qos: int, retain: bool, token: int | None = None
    ) -> Any:
        """Publish a JSON document; its acknowledgement goes to the ack listeners with `token`
        (publishes without a token are tracked too, so that no ack is mistaken for another)."""
        try:
            info = self.client.publish(
                topic, payload, qos=qos, retain=retain, properties=self._json
            )
        except (ValueError, RuntimeError) as exc:
            raise PublishError(f"cannot publish to {topic}: {exc}") from exc
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise PublishError(f"cannot publish to {topic}: {mqtt.error_string(info.rc)}")
        with self.changed:
            self._last_sent = (topic, self._clock.monotonic())
            early = self._early_acks.pop(info.mid, None)
            if early is None:
                self._inflight[info.mid] = token
        if early is not None:
            self._settle(token, early)
        return info

    # --- paho callbacks (network thread) -----------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            self.trouble.report(diagnose_connack(reason, self.client_id))
            return
        self.trouble.connected()
        self._connected_at = self._clock.monotonic()
        log.info("connected to %s:%s", self.address.host, self.address.port)
        with self.changed:
            self._connected = True
            self.changed.notify_all()
        for listener in list(self._connect_listeners):
            listener(client)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        now = self._clock.monotonic()
        with self.changed:
            was_connected, self._connected = self._connected, False
            topic, sent_at = self._last_sent
            unacked = topic if self._inflight and now - sent_at < CLOSED_AFTER_PUBLISH_S else None
        named = diagnose_disconnect(reason, self.client_id)
        if named is not None:
            self.trouble.report(named)
        elif not was_connected and not self._stopping:
            self.trouble.connection_failed()  # e.g. a TLS alert before CONNACK
        else:
            log.info("disconnected from broker: %s", reason)
            if not self._stopping:
                self.trouble.session_ended(now - self._connected_at, unacked_topic=unacked)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self.trouble.connection_failed()

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Any
    ) -> None:
        with self.changed:
            if mid not in self._inflight:
                self._early_acks[mid] = reason
                return
            token = self._inflight.pop(mid)
            self.changed.notify_all()
        self._settle(token, reason)

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        """Before every (re)connect: leave the current Last Will."""
        if self._will is None:
            return
        will = self._will()
        if will is None:
            return
        topic, payload = will
        client.will_set(
            topic, payload, qos=1, retain=True, properties=json_properties(PacketTypes.WILLMESSAGE)
        )

    # --- internals ---------------------------------------------------------------------------

    def _settle(self, token: int | None, reason: ReasonCode) -> None:
        if token is None:
            return
        for listener in list(self._ack_listeners):
            listener(token, reason)

    def _make_client(self) -> mqtt.Client:
        settings = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        if self.address.tls:
            try:
                client.tls_set(
                    ca_certs=settings.ca_file or None,
                    certfile=settings.cert_file or None,
                    keyfile=settings.key_file or None,
                    tls_version=ssl.PROTOCOL_TLS_CLIENT,
                )
            except (OSError, ValueError, ssl.SSLError) as exc:
                raise PublishError(f"TLS set-up failed: {exc}") from exc
        if self._will is not None:
            # Set here too (not only before each connect) so the will exists from the start.
            self._on_pre_connect(client, None)
            client.on_pre_connect = self.guarded(self._on_pre_connect)
        # paho sleeps these as seconds; fractions work although the stub says int
        client.reconnect_delay_set(
            settings.reconnect_min_s,  # type: ignore[arg-type]
            settings.reconnect_max_s,  # type: ignore[arg-type]
        )
        client.max_inflight_messages_set(settings.inflight_window + 20)
        client.max_queued_messages_set(0)
        client.on_connect = self.guarded(self._on_connect)
        client.on_disconnect = self.guarded(self._on_disconnect)
        client.on_connect_fail = self.guarded(self._on_connect_fail)
        client.on_publish = self.guarded(self._on_publish)
        return client

    def guarded(self, callback: Callable[..., None]) -> Callable[..., None]:
        """paho re-raises a callback's exception and its network loop thread dies of it: log
        and report instead, and keep the connection serving."""

        name = callback.__name__.lstrip("_")

        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as exc:
                log.exception("MQTT %s failed", name)
                self._on_fault(Fault.MQTT_NETWORK, f"{name}: {type(exc).__name__}")

        return guarded
