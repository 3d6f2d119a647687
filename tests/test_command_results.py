"""Command results over a real mosquitto: the gate answers every command on its cmd-result
topic, `gate-central command send` waits for the answer, the collector stores it."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings

from central.cli import main
from central.collect.collector import Collector, CollectorSettings
from central.collect.store import open_store
from edge.clock import SystemClock
from edge.mqtt.control import ControlPlane
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.storage.outbox import Outbox
from edge.wire.results import claimed_command_id
from edge.wire.schema_files import load_schema
from tests.broker import Broker
from tests.hostile import commands
from tests.test_mqtt_control import KEY, PUBLIC_HEX, FakeHandler, FakeStatus, FakeTrust


@dataclass
class Gate:
    handler: FakeHandler
    status: FakeStatus


def _write_key(path: Path, key: ed25519.Ed25519PrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def gate(tmp_path: Path, mqtt_broker: Broker) -> Iterator[Gate]:
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
    settings = MqttSettings(broker=mqtt_broker.url, command_public_key=PUBLIC_HEX)
    publisher = EventPublisher(settings, site="s1", gate="g1", outbox=outbox, clock=SystemClock())
    handler, status = FakeHandler(), FakeStatus()
    plane = ControlPlane(
        settings,
        site="s1",
        gate="g1",
        state_dir=tmp_path,
        handler=handler,
        trust=FakeTrust(),
        status=status,
        clock=SystemClock(),
    )
    plane.attach(publisher)
    publisher.start()
    connected = threading.Event()
    publisher.connection.on_connected(lambda _: connected.set())
    assert connected.wait(10) or publisher.connected
    yield Gate(handler, status)
    plane.stop()
    publisher.stop()
    outbox.close()


def test_command_send_prints_the_gates_answer(
    gate: Gate, mqtt_broker: Broker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'fleet.db'}")
    ready = threading.Event()
    collector = Collector(
        CollectorSettings(broker=mqtt_broker.url, client_id="c1"), store, on_subscribed=ready.set
    )
    collector.start()
    assert ready.wait(10)
    schema = load_schema("command-result")
    base = ["command", "send", "--broker", mqtt_broker.url, "--site", "s1", "--gate", "g1"]
    good = str(_write_key(tmp_path / "good.pem", KEY))
    stranger = str(_write_key(tmp_path / "bad.pem", ed25519.Ed25519PrivateKey.generate()))
    try:
        assert main([*base, "--key", good, "--command", "refresh-trust"]) == 0
        executed = json.loads(capsys.readouterr().out)
        jsonschema.validate(executed, schema)
        assert executed["outcome"] == "executed" and gate.handler.calls == [("refresh-trust",)]

        assert main([*base, "--key", stranger, "--command", "open-once", "--operator", "x"]) == 1
        refused = json.loads(capsys.readouterr().out)
        jsonschema.validate(refused, schema)
        assert refused["outcome"] == "refused" and "signature" in refused["reason"]

        other = [*base[:-1], "g2", "--key", good, "--command", "refresh-trust", "--wait", "0.3"]
        assert main(other) == 2  # no gate g2 answers
        assert json.loads(capsys.readouterr().out)["reason"] == "no answer"
    finally:
        collector.stop()
    stored = store.query("SELECT command_id, outcome FROM command_results ORDER BY outcome")
    store.close()
    assert stored == [
        (executed["command_id"], "executed"),
        (refused["command_id"], "refused"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"[]",
        b'{"body": {"command_id": "not-a-uuid"}}',
        b'{"body": {"command_id": "' + str(uuid.uuid4()).upper().encode() + b'"}}',
        b'{"body": {"command_id": 7}}',
        b'{"body": []}',
    ],
)
def test_a_payload_without_a_well_formed_command_id_gets_no_answer(payload: bytes) -> None:
    assert claimed_command_id(payload) is None


@settings(max_examples=300, deadline=None)
@given(commands)
def test_any_payload_names_a_canonical_command_id_or_none(payload: bytes) -> None:
    claimed = claimed_command_id(payload)
    assert claimed is None or str(uuid.UUID(claimed)) == claimed
