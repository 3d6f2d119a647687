"""The running service and central: retained trust updates, signed commands, status faults."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from paho.mqtt.enums import CallbackAPIVersion

from central.commands import sign_command
from central.issue import issue_code
from central.keys import generate_private_key, private_key_pem, public_key_pem
from edge.app.config import parse_config
from edge.app.gate import GateService
from edge.clock import SystemClock
from edge.core.records import DecisionRecord
from edge.credentials.trust.trustlist import IssuerKey, build_trust_list
from edge.faults import Fault
from edge.sim.credentials import SimCredentials
from edge.sim.rig import SimGate
from edge.sim.scenario import NORMAL_SKIN_C
from edge.wire.topics import TRUST_LIST_TOPIC
from tests.broker import Broker, Subscriber
from tests.gate_support import gate_settings
from tests.waiting import wait_until as _wait

pytestmark = pytest.mark.slow


def _publish(broker: Broker, topic: str, payload: bytes, *, retain: bool) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="central-publisher")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


class LiveGate:
    def __init__(self, tmp: Path, broker: Broker) -> None:
        self.creds = SimCredentials.generate()
        self.command_key = cast(ed25519.Ed25519PrivateKey, generate_private_key("EdDSA"))
        state = tmp / "state"
        root = self.creds.write(state, SystemClock().now())
        key_file = tmp / "command.pub.pem"
        key_file.write_bytes(public_key_pem(self.command_key.public_key()))
        config = parse_config(
            gate_settings(
                state,
                root,
                site="s1",
                gate="g1",
                mqtt={"enabled": True, "broker": broker.url, "command_public_key": str(key_file)},
            )
        )
        self.sim = SimGate(SystemClock())
        self.sim.turnstile.walk_delay_s = 0.01
        self.records: list[DecisionRecord] = []
        self.decided = threading.Event()
        self.service = GateService(config, self.sim.hardware, on_decision=self._on_decision)

    def _on_decision(self, record: DecisionRecord) -> None:
        if record.outcome is None:
            self.records.append(record)
            self.decided.set()


@pytest.fixture
def gate(tmp_path: Path, mqtt_broker: Broker) -> Iterator[LiveGate]:
    live = LiveGate(tmp_path, mqtt_broker)
    status = Subscriber(mqtt_broker, "gates/s1/g1/status", client_id="central-fixture")
    live.service.start()
    # The retained "online" follows the gate's SUBSCRIBE on the same connection, so once it is
    # seen the broker already routes commands to the gate.
    assert status.wait_for(
        lambda msgs: any(json.loads(p).get("state") == "online" for _, p, _ in msgs)
    )
    status.close()
    yield live
    live.service.stop()


def test_retained_trust_update_is_verified_installed_or_refused(
    gate: LiveGate, mqtt_broker: Broker
) -> None:
    status = Subscriber(mqtt_broker, "gates/s1/g1/status", client_id="central-status")
    try:
        now = int(SystemClock().now())
        newcomer = generate_private_key("ES256")
        issuers = {
            name: [IssuerKey(key.public_key(), now - 60, now + 86400)]
            for name, key in gate.creds.issuer_keys.items()
        }
        issuers["CN-440000"] = [IssuerKey(newcomer.public_key(), now - 60, now + 86400)]
        v2 = build_trust_list(
            gate.creds.root, issuers, version=2, issued_at=now, expires_at=now + 86400
        )
        _publish(mqtt_broker, TRUST_LIST_TOPIC, v2, retain=True)
        assert _wait(lambda: gate.service.trust.health(7).trust_list.version == 2)
        code = issue_code("CN-440000", private_key_pem(newcomer), "green", now)
        assert gate.service.verifier.verify(code).valid

        tampered = v2.replace(b'\\"version\\":2', b'\\"version\\":3')
        assert tampered != v2
        _publish(mqtt_broker, TRUST_LIST_TOPIC, tampered, retain=True)
        assert status.wait_for(
            lambda msgs: any("trust_list" in json.loads(p).get("faults", {}) for _, p, _ in msgs)
        ), "a refused trust list must show on the status topic"
        assert gate.service.trust.health(7).trust_list.version == 2  # last good one stays
    finally:
        status.close()


def test_signed_open_once_is_a_manual_pass_and_a_replay_is_refused(
    gate: LiveGate, mqtt_broker: Broker
) -> None:
    gate.sim.person_arrives(NORMAL_SKIN_C)
    command = sign_command(
        gate.command_key,
        name="open-once",
        site="s1",
        gate="g1",
        now=SystemClock().now(),
        operator="op-9",
    )
    _publish(mqtt_broker, "gates/s1/g1/cmd/open-once", command, retain=False)
    assert gate.decided.wait(10)
    record = gate.records[-1]
    assert (record.verdict, record.method, record.operator) == ("pass", "manual", "op-9")
    gate.decided.clear()
    gate.service.controller.wait_idle(5)
    _publish(mqtt_broker, "gates/s1/g1/cmd/open-once", command, retain=False)
    assert not gate.decided.wait(1.5), "a replayed command must not open the gate"
    assert gate.service.mqtt is not None and gate.service.mqtt.control.refused >= 1


def test_a_signed_clear_fault_lifts_a_relay_fault_from_the_status(
    gate: LiveGate, mqtt_broker: Broker
) -> None:
    status = Subscriber(mqtt_broker, "gates/s1/g1/status", client_id="central-status")
    try:
        gate.service.controller.report_fault(Fault.RELAY_FAULT, "pulse failed: board not answering")
        assert status.wait_for(
            lambda msgs: any("relay_fault" in json.loads(p)["faults"] for _, p, _ in msgs)
        )
        command = sign_command(
            gate.command_key,
            name="clear-fault",
            site="s1",
            gate="g1",
            now=SystemClock().now(),
            fault="relay_fault",
        )
        _publish(mqtt_broker, "gates/s1/g1/cmd/clear-fault", command, retain=False)
        assert _wait(lambda: "relay_fault" not in gate.service.controller.faults)
        assert status.wait_for(lambda msgs: json.loads(msgs[-1][1])["faults"] == {})
    finally:
        status.close()
