"""EventPublisher against a real mosquitto: ordered delivery, status, will, outages, telemetry."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.clock import SystemClock
from edge.errors import PublishError
from edge.events import GateEvent
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.mqtt.telemetry import TelemetryPublisher
from edge.storage.outbox import Outbox
from edge.wire.broker_url import parse_broker_url
from edge.wire.schema_files import load_schema
from tests.broker import Broker, Subscriber

EVENTS = "gates/s1/g1/events"
STATUS = "gates/s1/g1/status"


def _docs(sub: Subscriber, topic: str) -> list[dict[str, Any]]:
    return [json.loads(p) for t, p, _ in list(sub.messages) if t == topic and p]


def _settings(broker: Broker, **kw: Any) -> MqttSettings:
    return MqttSettings(broker=broker.url, reconnect_min_s=0.1, reconnect_max_s=0.5, **kw)


def _setup(tmp_path: Path, broker: Broker, **kw: Any) -> tuple[Outbox, EventPublisher]:
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
    publisher = EventPublisher(
        _settings(broker, **kw), site="s1", gate="g1", outbox=outbox, clock=SystemClock()
    )
    return outbox, publisher


def _seqs(sub: Subscriber) -> list[int]:
    return [d["seq"] for d in _docs(sub, EVENTS)]


def test_events_are_delivered_in_order_and_deleted_on_puback(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    sub = Subscriber(mqtt_broker, "gates/#")
    outbox, publisher = _setup(tmp_path, mqtt_broker, inflight_window=7)
    for _ in range(60):
        outbox.emit(GateEvent(kind="test"))
    publisher.start()
    assert publisher.wait_drained(20)
    assert sub.wait_for(lambda m: len([x for x in m if x[0] == EVENTS]) >= 60)
    assert _seqs(sub) == list(range(1, 61))
    schema = load_schema("event")
    for doc in _docs(sub, EVENTS):
        jsonschema.validate(doc, schema)
    publisher.stop()
    sub.close()
    assert outbox.depth() == 0


def test_status_online_with_faults_and_offline_at_stop(tmp_path: Path, mqtt_broker: Broker) -> None:
    sub = Subscriber(mqtt_broker, STATUS)
    _outbox, publisher = _setup(tmp_path, mqtt_broker)
    publisher.start()
    assert sub.wait_for(lambda m: len(m) >= 1)
    publisher.set_fault("trust_list", "update refused: bad signature")
    assert sub.wait_for(lambda m: len(m) >= 2)
    publisher.clear_fault("trust_list")
    assert sub.wait_for(lambda m: len(m) >= 3)
    publisher.stop()
    assert sub.wait_for(lambda m: len(m) >= 4)
    docs = _docs(sub, STATUS)
    schema = load_schema("status")
    for doc in docs:
        jsonschema.validate(doc, schema)
    assert [d["state"] for d in docs] == ["online", "online", "online", "offline"]
    assert docs[1]["faults"] == {"trust_list": "update refused: bad signature"}
    assert docs[2]["faults"] == {}
    assert docs[0]["version"] and docs[0]["dropped_events"] == 0
    sub.close()
    # The last status stays retained for late subscribers.
    late = Subscriber(mqtt_broker, STATUS, client_id="late")
    assert late.wait_for(lambda m: len(m) >= 1)
    assert late.messages[0][2] is True
    assert json.loads(late.messages[0][1])["state"] == "offline"
    late.close()


def test_last_will_marks_the_gate_offline_when_the_connection_dies(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    _outbox, publisher = _setup(tmp_path, mqtt_broker)
    sub = Subscriber(mqtt_broker, STATUS)
    publisher.start()
    assert sub.wait_for(lambda m: len(m) >= 1)
    sock = publisher._client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)  # the connection drops without DISCONNECT
    assert sub.wait_for(lambda m: any(json.loads(p)["state"] == "offline" for _, p, _ in m))
    will = next(d for d in _docs(sub, STATUS) if d["state"] == "offline")
    jsonschema.validate(will, load_schema("status"))
    assert will["ts"] is None
    # ...and it reconnects and announces itself online again.
    assert sub.wait_for(lambda m: json.loads(m[-1][1])["state"] == "online")
    publisher.stop()
    sub.close()


def test_events_stored_while_the_broker_is_down_arrive_after_it_returns(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    sub = Subscriber(mqtt_broker, EVENTS)
    outbox, publisher = _setup(tmp_path, mqtt_broker)
    publisher.start()
    for _ in range(20):
        outbox.emit(GateEvent(kind="test"))
    assert publisher.wait_drained(10)
    mqtt_broker.stop()
    for _ in range(30):
        outbox.emit(GateEvent(kind="test"))
    assert not publisher.wait_drained(0.3)
    assert outbox.depth() == 30
    mqtt_broker.start()
    assert publisher.wait_drained(20)
    assert sub.wait_for(lambda m: {d for d in _seqs(sub)} >= set(range(1, 51)), 20)
    publisher.stop()
    sub.close()


def test_publisher_started_before_the_broker_connects_when_it_appears(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "late-broker")
    outbox, publisher = _setup(tmp_path, broker)
    outbox.emit(GateEvent(kind="test"))
    publisher.start()
    assert not publisher.wait_drained(0.5)
    with broker:
        assert publisher.wait_drained(20)
        publisher.stop()


def test_telemetry_document_matches_its_schema(tmp_path: Path, mqtt_broker: Broker) -> None:
    sub = Subscriber(mqtt_broker, "gates/s1/g1/telemetry")
    outbox, publisher = _setup(tmp_path, mqtt_broker)
    outbox.emit(GateEvent(kind="test"))
    provider = {
        "fps": 14.5,
        "decode_ms_p50": 8.0,
        "decode_ms_p95": 21.0,
        "thermometer": "ok",
        "clock_offset_s": None,
    }
    telemetry = TelemetryPublisher(
        publisher, outbox, lambda: provider, interval_s=0.05, clock=SystemClock()
    )
    sample = telemetry.sample()
    jsonschema.validate(sample, load_schema("telemetry"))
    assert sample["outbox_depth"] == 1 and sample["fps"] == 14.5
    publisher.start()
    assert publisher.wait_drained(10)
    telemetry.start()
    assert sub.wait_for(lambda m: len(m) >= 2)
    telemetry.stop()
    publisher.stop()
    docs = _docs(sub, "gates/s1/g1/telemetry")
    for doc in docs:
        jsonschema.validate(doc, load_schema("telemetry"))
    assert docs[-1]["outbox_depth"] == 0
    sub.close()


@pytest.mark.parametrize("url", ["http://x:1", "mqtt://", "mqtt://h:notaport", "tcp://h:1883"])
def test_bad_broker_urls_are_refused(url: str) -> None:
    with pytest.raises(PublishError):
        parse_broker_url(url)


def test_broker_url_defaults() -> None:
    assert parse_broker_url("mqtts://central.example").port == 8883
    assert parse_broker_url("mqtt://10.0.0.1").port == 1883


TELEMETRY = "gates/s1/g1/telemetry"


class _PropsSubscriber:
    """A plain MQTT v5 subscriber that keeps each message's v5 properties."""

    def __init__(self, broker: Broker, topic: str) -> None:
        self.messages: list[tuple[str, dict[str, Any], Any]] = []
        self._cv = threading.Condition()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="props-subscriber", protocol=mqtt.MQTTv5
        )
        subscribed = threading.Event()
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *args: subscribed.set()
        self._client.connect("127.0.0.1", broker.port)
        self._client.loop_start()
        self._client.subscribe(topic, qos=1)
        assert subscribed.wait(10)

    def _on_message(self, client: object, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._cv:
            self.messages.append((message.topic, json.loads(message.payload), message.properties))
            self._cv.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        with self._cv:
            return self._cv.wait_for(predicate, timeout)

    def topics(self) -> set[str]:
        with self._cv:
            return {t for t, _, _ in self.messages}

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def test_json_publishes_carry_payload_format_and_content_type(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    sub = _PropsSubscriber(mqtt_broker, "gates/#")
    outbox, publisher = _setup(tmp_path, mqtt_broker)
    outbox.emit(GateEvent(kind="test"))
    provider = {
        "fps": 0.0,
        "decode_ms_p50": None,
        "decode_ms_p95": None,
        "thermometer": "on_demand",
        "clock_offset_s": 0.0,
    }
    telemetry = TelemetryPublisher(
        publisher, outbox, lambda: provider, interval_s=60, clock=SystemClock()
    )
    publisher.start()
    assert publisher.wait_drained(10)
    telemetry.publish_once()
    assert sub.wait_for(lambda: sub.topics() >= {EVENTS, STATUS, TELEMETRY})
    # ...and the Last Will, published by the broker when the connection dies.
    sock = publisher._client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    assert sub.wait_for(
        lambda: any(t == STATUS and d["state"] == "offline" for t, d, _ in sub.messages)
    )
    publisher.stop()
    sub.close()
    for topic, _doc, props in sub.messages:
        assert getattr(props, "PayloadFormatIndicator", None) == 1, topic
        assert getattr(props, "ContentType", None) == "application/json", topic


def test_status_follows_the_dropped_count_and_so_does_the_next_will(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    sub = Subscriber(mqtt_broker, STATUS)
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", max_events=5, clock=SystemClock())
    publisher = EventPublisher(
        _settings(mqtt_broker),
        site="s1",
        gate="g1",
        outbox=outbox,
        status_refresh_s=0.2,
        clock=SystemClock(),
    )
    publisher.start()
    assert sub.wait_for(lambda m: len(m) >= 1)
    assert _docs(sub, STATUS)[0]["dropped_events"] == 0
    outbox.emit_many(GateEvent(kind="test") for _ in range(20))  # bound 5: 15 dropped
    assert outbox.dropped() == 15
    assert sub.wait_for(lambda m: _docs(sub, STATUS)[-1]["dropped_events"] == 15, 5)
    latest = _docs(sub, STATUS)[-1]
    jsonschema.validate(latest, load_schema("status"))
    assert latest["state"] == "online"
    # Rate-limited and only on change: no further status while the count stays the same.
    count = len(sub.messages)
    time.sleep(0.8)
    assert len(sub.messages) == count
    # A late subscriber gets the fresh retained count.
    late = Subscriber(mqtt_broker, STATUS, client_id="late")
    assert late.wait_for(lambda m: len(m) >= 1)
    assert json.loads(late.messages[0][1])["dropped_events"] == 15
    late.close()
    # The Last Will is refreshed before every reconnect: the first one still says 0 (set
    # when that connection was made), the one armed by the reconnect says 15.
    for expected in (0, 15):
        sock = publisher._client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        assert sub.wait_for(lambda m: _docs(sub, STATUS)[-1]["state"] == "offline")
        assert _docs(sub, STATUS)[-1]["dropped_events"] == expected
        assert sub.wait_for(lambda m: _docs(sub, STATUS)[-1]["state"] == "online")
        assert _docs(sub, STATUS)[-1]["dropped_events"] == 15
    publisher.stop()
    sub.close()


def test_telemetry_schema_requires_the_service_metrics(tmp_path: Path) -> None:
    schema = load_schema("telemetry")
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
    publisher = EventPublisher(
        MqttSettings(broker="mqtt://127.0.0.1:1"),
        site="s1",
        gate="g1",
        outbox=outbox,
        clock=SystemClock(),
    )
    full = {
        "fps": 9.5,
        "decode_ms_p50": None,
        "decode_ms_p95": None,
        "thermometer": "ok",
        "clock_offset_s": None,
    }
    sample = TelemetryPublisher(
        publisher, outbox, lambda: full, interval_s=60, clock=SystemClock()
    ).sample()
    jsonschema.validate(sample, schema)
    for name in full:
        partial = {k: v for k, v in full.items() if k != name}
        bad = TelemetryPublisher(
            publisher, outbox, partial.copy, interval_s=60, clock=SystemClock()
        ).sample()
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
