"""TLS and mutual TLS with a per-gate ACL against a real mosquitto; the CSR flow."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from edge.cli import main as cli_main
from edge.clock import SystemClock
from edge.events import GateEvent
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.storage.outbox import Outbox
from tests.broker import Broker, Subscriber
from tests.waiting import wait_until


def _gate_acl(site: str, gate: str) -> list[str]:
    root = f"gates/{site}/{gate}"
    return [
        f"topic write {root}/events",
        f"topic write {root}/status",
        f"topic write {root}/telemetry",
        f"topic read {root}/cmd/#",
        "topic read trust/#",
    ]


@pytest.fixture
def mtls_broker(tmp_path: Path) -> Broker:
    acl = {
        "s1.g1": _gate_acl("s1", "g1"),
        "s1.g2": _gate_acl("s1", "g2"),
        "s1.g3": ["topic write gates/s1/g3/status"],
        "central": ["topic read gates/#", "topic readwrite trust/#", "topic write gates/+/+/cmd/#"],
    }
    return Broker(tmp_path / "broker", mutual=True, acl=acl)


def _publisher(
    tmp_path: Path, broker: Broker, gate: str, cert: tuple[Path, Path] | None
) -> tuple[Outbox, EventPublisher]:
    assert broker.ca is not None
    settings = MqttSettings(
        broker=broker.url,
        ca_file=str(broker.ca.ca_file),
        cert_file=str(cert[0]) if cert else "",
        key_file=str(cert[1]) if cert else "",
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
    )
    outbox = Outbox(tmp_path / f"{gate}.db", site="s1", gate=gate, clock=SystemClock())
    return outbox, EventPublisher(
        settings, site="s1", gate=gate, outbox=outbox, clock=SystemClock()
    )


def test_events_over_tls(tmp_path: Path, tls_broker: Broker) -> None:
    sub = Subscriber(tls_broker, "gates/s1/g1/events")
    outbox, publisher = _publisher(tmp_path, tls_broker, "g1", None)
    outbox.emit_many(GateEvent(kind="test") for _ in range(25))
    publisher.start()
    assert publisher.wait_drained(20)
    assert sub.wait_for(lambda m: len(m) >= 25)
    publisher.stop()
    sub.close()


def test_mutual_tls_gate_publishes_its_own_subtree(tmp_path: Path, mtls_broker: Broker) -> None:
    with mtls_broker:
        assert mtls_broker.ca is not None
        sub = Subscriber(mtls_broker, "gates/#", cert=mtls_broker.ca.issue("central"))
        outbox, publisher = _publisher(tmp_path, mtls_broker, "g1", mtls_broker.ca.issue("s1.g1"))
        outbox.emit_many(GateEvent(kind="test") for _ in range(10))
        publisher.start()
        assert publisher.wait_drained(20)
        assert sub.wait_for(lambda m: len([x for x in m if x[0].endswith("/events")]) >= 10)
        assert sub.wait_for(lambda m: any(x[0] == "gates/s1/g1/status" for x in m))
        publisher.stop()
        sub.close()


def _puback_reason(broker: Broker, cert: tuple[Path, Path], topic: str) -> ReasonCode:
    assert broker.ca is not None
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="probe", protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(broker.ca.ca_file), certfile=str(cert[0]), keyfile=str(cert[1]))
    done = threading.Event()
    reasons: list[ReasonCode] = []

    def on_publish(c: mqtt.Client, u: object, mid: int, rc: ReasonCode, p: object) -> None:
        reasons.append(rc)
        done.set()

    client.on_publish = on_publish
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(topic, b"{}", qos=1)
    assert done.wait(10)
    client.disconnect()
    client.loop_stop()
    return reasons[0]


def test_acl_refuses_publishing_outside_the_gate_subtree(
    tmp_path: Path, mtls_broker: Broker
) -> None:
    with mtls_broker:
        assert mtls_broker.ca is not None
        cert = mtls_broker.ca.issue("s1.g1")
        own = _puback_reason(mtls_broker, cert, "gates/s1/g1/events")
        other = _puback_reason(mtls_broker, cert, "gates/s1/g2/events")
        trust = _puback_reason(mtls_broker, cert, "trust/trust-list")
        assert not own.is_failure
        assert other.is_failure and other == ReasonCode(PacketTypes.PUBACK, "Not authorized")
        assert trust.is_failure


def test_a_gate_posing_as_another_is_not_even_connected(
    tmp_path: Path, mtls_broker: Broker
) -> None:
    with mtls_broker:
        assert mtls_broker.ca is not None
        # Configured as g2 but holding g1's certificate: the broker refuses its Last Will topic
        # and with it the connection; the events stay in the outbox.
        outbox, publisher = _publisher(tmp_path, mtls_broker, "g2", mtls_broker.ca.issue("s1.g1"))
        outbox.emit_many(GateEvent(kind="test") for _ in range(5))
        publisher.start()
        assert not publisher.wait_drained(1.0)
        assert not publisher.connected
        assert outbox.depth() == 5
        publisher.stop()


def test_events_refused_by_puback_stay_in_the_outbox(tmp_path: Path, mtls_broker: Broker) -> None:
    with mtls_broker:
        assert mtls_broker.ca is not None
        # This identity may write its status but not its events.
        outbox, publisher = _publisher(tmp_path, mtls_broker, "g3", mtls_broker.ca.issue("s1.g3"))
        outbox.emit_many(GateEvent(kind="test") for _ in range(5))
        publisher.start()
        # A loaded machine may take long over the handshake.
        assert wait_until(lambda: publisher.connected, 20.0)
        assert not publisher.wait_drained(1.5)
        # mosquitto may close the connection right after a refusing PUBACK, before the client
        # reads it: the unacknowledged events are sent again on reconnecting, until each refusal
        # has been read
        assert wait_until(lambda: publisher.refused >= 5, 30.0)
        assert outbox.depth() == 5
        assert "publish_refused" in publisher.faults()
        publisher.stop()


def test_without_a_client_certificate_nothing_is_delivered(
    tmp_path: Path, mtls_broker: Broker
) -> None:
    with mtls_broker:
        outbox, publisher = _publisher(tmp_path, mtls_broker, "g1", None)
        outbox.emit(GateEvent(kind="test"))
        publisher.start()
        assert not publisher.wait_drained(1.0)
        assert not publisher.connected
        publisher.stop()
        assert outbox.depth() == 1


def test_device_csr_is_signed_and_works_for_mutual_tls(
    tmp_path: Path, mtls_broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = tmp_path / "device" / "s1.g1"
    assert cli_main(["certs", "csr", "--out", str(prefix), "--cn", "s1.g1"]) == 0
    key = Path(f"{prefix}.key")
    assert key.stat().st_mode & 0o777 == 0o600
    assert cli_main(["certs", "csr", "--out", str(prefix), "--cn", "s1.g1"]) != 0  # no overwrite
    with mtls_broker:
        assert mtls_broker.ca is not None
        cert = tmp_path / "device" / "s1.g1.crt"
        cert.write_bytes(mtls_broker.ca.sign_csr(Path(f"{prefix}.csr").read_bytes()))
        sub = Subscriber(mtls_broker, "gates/#", cert=mtls_broker.ca.issue("central"))
        outbox, publisher = _publisher(tmp_path, mtls_broker, "g1", (cert, key))
        outbox.emit(GateEvent(kind="test"))
        publisher.start()
        assert publisher.wait_drained(20)
        assert sub.wait_for(lambda m: any(t.endswith("/events") for t, _, _ in m))
        event = next(json.loads(p) for t, p, _ in sub.messages if t.endswith("/events"))
        assert event["gate"] == "g1"
        publisher.stop()
        sub.close()
