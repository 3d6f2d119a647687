"""Shared-subscription MQTT 5 collector: store a batch, commit it, then acknowledge it."""

from __future__ import annotations

import logging
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from central.collect.messages import Record, RefusedMessageError, parse
from central.collect.store import FleetStore, StoreUnavailableError
from central.errors import CentralError
from edge.wire.broker_url import parse_broker_url

log = logging.getLogger(__name__)

DEFAULT_GROUP = "gate-central"
SESSION_EXPIRY_S = 7 * 86_400
SUBSCRIBED = ("events", "status", "telemetry", "cmd-result/+")


def default_client_id() -> str:
    """A stable id per host, so a restarted collector resumes its session."""
    return f"gate-central-collect-{socket.gethostname()}"[:64]


def topic_filters(group: str) -> list[str]:
    """The shared subscriptions every collector of one group holds."""
    return [f"$share/{group}/gates/+/+/{tail}" for tail in SUBSCRIBED]


@dataclass(frozen=True)
class CollectorSettings:
    """Where to collect from and how."""

    broker: str
    client_id: str = field(default_factory=default_client_id)
    group: str = DEFAULT_GROUP
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    username: str = ""
    password: str = ""
    batch_max: int = 1000
    batch_wait_s: float = 0.02
    receive_maximum: int = 4000
    retire: bool = False
    """Leave the group: take no new share, store what the session holds, then end the session."""


@dataclass
class CollectorStats:
    """What the collector did since it started."""

    stored: int = 0
    refused: int = 0
    batches: int = 0
    store_errors: int = 0


@dataclass(frozen=True)
class _Delivery:
    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes


class Collector:
    """Messages go from paho's network thread to one writer thread through a queue; the
    writer stores up to batch_max of them in one transaction and acknowledges them only after
    the commit. A batch the store refuses is retried until it is stored, unacknowledged
    meanwhile, so the broker keeps (and after a crash re-sends) every message."""

    def __init__(
        self,
        settings: CollectorSettings,
        store: FleetStore,
        *,
        on_subscribed: Callable[[], None] | None = None,
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        self.settings, self.store = settings, store
        self.stats = CollectorStats()
        self._on_subscribed = on_subscribed
        self._on_failure = on_failure
        self.failure: str | None = None
        self._queue: queue.Queue[_Delivery] = queue.Queue()
        self._stop = threading.Event()
        self._generation = 0  # bumped on every connect: a packet id belongs to one connection
        self._generation_lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._last_activity = time.monotonic()
        address = parse_broker_url(settings.broker)
        self._address = address
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if address.tls:
            self.client.tls_set(
                ca_certs=settings.ca_file or None,
                certfile=settings.cert_file or None,
                keyfile=settings.key_file or None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if settings.username:
            self.client.username_pw_set(settings.username, settings.password or None)
        self.client.reconnect_delay_set(1, 10)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer, then connect in the background (a persistent session)."""
        self._writer = threading.Thread(target=self._write_loop, name="collect-writer")
        self._writer.start()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = self.settings.receive_maximum
        self.client.connect_async(
            self._address.host,
            self._address.port,
            keepalive=30,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def stop(self) -> None:
        """Store and acknowledge what has arrived, then disconnect; the session stays, unless
        retiring (then the broker forgets it)."""
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=30)
        properties = None
        if self.settings.retire:
            properties = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 0
        self.client.disconnect(properties=properties)
        self.client.loop_stop()

    def idle_s(self) -> float:
        """Seconds since the last message arrived or was acknowledged."""
        return time.monotonic() - self._last_activity

    # ---- network thread ----------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason: ReasonCode, properties: object = None) -> None:  # fmt: skip
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        with self._generation_lock:
            self._generation += 1
        filters = topic_filters(self.settings.group)
        if self.settings.retire:
            # No new share comes to this session; what it holds is delivered all the same.
            client.unsubscribe(filters)
            if self._on_subscribed is not None:
                self._on_subscribed()
            return
        client.subscribe([(f, 1) for f in filters])
        log.info("connected to %s as %s", self.settings.broker, self.settings.client_id)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reasons: list[ReasonCode], properties: object = None) -> None:  # fmt: skip
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.error("subscription refused: %s", failed)
        elif self._on_subscribed is not None:
            self._on_subscribed()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._last_activity = time.monotonic()
        self._queue.put(
            _Delivery(self._generation, msg.mid, msg.qos, msg.topic, bytes(msg.payload))
        )

    # ---- writer thread -----------------------------------------------------------------------

    def _write_loop(self) -> None:
        """Store and acknowledge until stopped. An unforeseen error ends the collector (told
        through on_failure, so its supervisor restarts it): what it had not acknowledged comes
        again, nothing is acknowledged unstored."""
        try:
            self._write_until_stopped()
        except Exception as exc:
            log.exception("the collector's writer failed")
            self.failure = f"{type(exc).__name__}: {exc}"
            if self._on_failure is not None:
                self._on_failure()

    def _write_until_stopped(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                if self._stop.is_set():
                    return
                continue
            records = self._records(batch)
            if not self._store(records):
                return  # stopping before the store came back: the broker re-sends the batch
            self._acknowledge(batch)
            self._last_activity = time.monotonic()

    def _take_batch(self) -> list[_Delivery]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.settings.batch_wait_s
        while len(batch) < self.settings.batch_max:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
        return batch

    def _records(self, batch: list[_Delivery]) -> list[Record]:
        now_ms = int(time.time() * 1000)
        records: list[Record] = []
        for delivery in batch:
            try:
                records.append(parse(delivery.topic, delivery.payload, now_ms))
            except RefusedMessageError as exc:
                self.stats.refused += 1
                log.warning("refused a message on %s: %s", delivery.topic[:200], exc)
        return records

    def _store(self, records: list[Record]) -> bool:
        """Store the batch; False only when stopping before it could be stored."""
        whole = self._write_retrying(records)
        if whole is not False:
            return whole is True
        # Something in the batch the database will never take: the rest goes in one by one.
        for record in records:
            single = self._write_retrying([record])
            if single is None:
                return False
            if not single:
                self.stats.refused += 1
                log.error("the store refused a %s of %s/%s", type(record).__name__,
                          record.site, record.gate)  # fmt: skip
        return True

    def _write_retrying(self, records: list[Record]) -> bool | None:
        """True when stored, False when refused for good, None when stopping meanwhile."""
        delay = 0.1
        while True:
            try:
                self.store.write(records, int(time.time() * 1000))
            except StoreUnavailableError as exc:
                self.stats.store_errors += 1
                log.error("%d records not stored, retry in %.1f s: %s", len(records), delay, exc)
                if self._stop.wait(delay):
                    return None
                delay = min(delay * 2, 5.0)
                continue
            except CentralError as exc:
                log.error("%d records refused by the store: %s", len(records), exc)
                return False
            self.stats.stored += len(records)
            self.stats.batches += 1
            return True

    def _acknowledge(self, batch: list[_Delivery]) -> None:
        # A packet id from an earlier connection is not acknowledged on a later one: that
        # message comes again on the new connection, is absorbed as a duplicate and acked then.
        with self._generation_lock:
            for delivery in batch:
                if delivery.qos > 0 and delivery.generation == self._generation:
                    self.client.ack(delivery.mid, delivery.qos)
