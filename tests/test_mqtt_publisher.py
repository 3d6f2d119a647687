"""EventPublisher against a real mosquitto: ordered delivery, status, will, outages, telemetry."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edge.errors import PublishError
from edge.events import GateEvent
from edge.mqtt.broker_url import parse_broker_url
from edge.mqtt.outbox import Outbox
from edge.mqtt.payloads import load_schema
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.mqtt.telemetry import TelemetryPublisher
from tests.broker import Broker, Subscriber

EVENTS = "gates/s1/g1/events"
STATUS = "gates/s1/g1/status"


def _docs(sub: Subscriber, topic: str) -> list[dict[str, Any]]:
    return [json.loads(p) for t, p, _ in list(sub.messages) if t == topic and p]


def _settings(broker: Broker, **kw: Any) -> MqttSettings:
    return MqttSettings(broker=broker.url, reconnect_min_s=0.1, reconnect_max_s=0.5, **kw)


def _setup(tmp_path: Path, broker: Broker, **kw: Any) -> tuple[Outbox, EventPublisher]:
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1")
    publisher = EventPublisher(_settings(broker, **kw), site="s1", gate="g1", outbox=outbox)
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
    publisher.set_fault("trust-list", "update refused: bad signature")
    assert sub.wait_for(lambda m: len(m) >= 2)
    publisher.clear_fault("trust-list")
    assert sub.wait_for(lambda m: len(m) >= 3)
    publisher.stop()
    assert sub.wait_for(lambda m: len(m) >= 4)
    docs = _docs(sub, STATUS)
    schema = load_schema("status")
    for doc in docs:
        jsonschema.validate(doc, schema)
    assert [d["state"] for d in docs] == ["online", "online", "online", "offline"]
    assert docs[1]["faults"] == {"trust-list": "update refused: bad signature"}
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
    provider = {"fps": 14.5, "decode_ms_p50": 8.0, "decode_ms_p95": 21.0, "thermometer": "ok"}
    telemetry = TelemetryPublisher(publisher, outbox, lambda: provider, interval_s=0.05)
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
