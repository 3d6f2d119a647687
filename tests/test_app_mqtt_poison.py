"""A running gate under retained poison on its trust and command topics, with a real mosquitto."""

from __future__ import annotations

import json
import threading
from typing import cast

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from paho.mqtt import publish

from central.commands import sign_command
from central.keys import generate_private_key, public_key_pem
from edge.app.config import Config, parse_config
from edge.app.gate import GateService
from edge.clock import SystemClock
from edge.core.records import DecisionRecord
from edge.faults import Fault
from edge.sim.credentials import SimCredentials
from edge.sim.rig import SimGate
from edge.sim.scenario import NORMAL_SKIN_C
from tests.broker import Broker, Subscriber
from tests.gate_support import GateConfig
from tests.hostile import FIELD_POISON

pytestmark = pytest.mark.slow

MORE_POISON = [
    ("gates/s1/g1/cmd/open-once", b'{"body":' + b'{"a":' * 5000 + b"1" + b"}" * 5001),
    ("gates/s1/g1/cmd/open-once", b'{"body":{"operator":"\\udfff"},"signature":"AA=="}'),
    ("gates/s1/g1/cmd/reload-config", b"\xc3\x28"),
    ("gates/s1/g1/cmd/no-such-command", b"[" * 50_000),
    ("trust/trust-list", b'{"payload":"' + "é".encode() + b'","signature":""}\n'),
    ("trust/denylist", b"{" * 50_000),
]


def _full_topic(topic: str) -> str:
    return topic if topic.startswith("trust/") else f"gates/s1/g1/{topic}"


def _publish(broker: Broker, messages: list[tuple[str, bytes, bool]]) -> None:
    """Publish at QoS 1 on one connection, as central (or an attacker) would."""
    publish.multiple(
        [{"topic": t, "payload": p, "qos": 1, "retain": r} for t, p, r in messages],
        hostname="127.0.0.1",
        port=broker.port,
        client_id="central-poison-publisher",
    )


def _poison_retained(broker: Broker) -> None:
    _publish(broker, [(_full_topic(t), p, True) for t, p in FIELD_POISON.items()])


def _gate_config(
    gate_config: GateConfig, broker: Broker, command_key: ed25519.Ed25519PrivateKey
) -> Config:
    root = SimCredentials.generate().write(gate_config.directory / "state", SystemClock().now())
    key_file = gate_config.directory / "command.pub.pem"
    key_file.write_bytes(public_key_pem(command_key.public_key()))
    return parse_config(
        gate_config(
            root=root,
            site="s1",
            gate="g1",
            mqtt={"enabled": True, "broker": broker.url, "command_public_key": str(key_file)},
        )
    )


class Run:
    """One start of the gate service on the shared state directory."""

    def __init__(
        self, config: Config, broker: Broker, command_key: ed25519.Ed25519PrivateKey
    ) -> None:
        self.sim = SimGate(SystemClock())
        self.sim.turnstile.walk_delay_s = 0.01
        self.passes: list[DecisionRecord] = []
        self.decided = threading.Event()
        self.service = GateService(config, self.sim.hardware, on_decision=self._on_decision)
        self._broker, self._key = broker, command_key

    def _on_decision(self, record: DecisionRecord) -> None:
        if record.outcome is None:
            self.passes.append(record)
            self.decided.set()

    def start(self) -> None:
        status = Subscriber(self._broker, "gates/s1/g1/status", client_id="central-poison")
        try:
            self.service.start()
            assert status.wait_for(
                lambda msgs: any(json.loads(p).get("state") == "online" for _, p, _ in msgs)
            )
        finally:
            status.close()

    def genuine_open_once(self, operator: str) -> None:
        self.sim.person_arrives(NORMAL_SKIN_C)
        command = sign_command(
            self._key,
            name="open-once",
            site="s1",
            gate="g1",
            now=SystemClock().now(),
            operator=operator,
        )
        _publish(self._broker, [("gates/s1/g1/cmd/open-once", command, False)])
        assert self.decided.wait(15), "a genuine open-once must still be executed"
        record = self.passes[-1]
        assert (record.verdict, record.method, record.operator) == ("pass", "manual", operator)

    def assert_control_plane_healthy(self) -> None:
        mqtt = self.service.mqtt
        assert mqtt is not None
        control, publisher = mqtt.control, mqtt.publisher
        assert control.worker_alive()
        assert Fault.MQTT_CONTROL not in publisher.faults()
        assert self.service.workers.restarts("mqtt-control") == 0
        # The refused documents are shown; the gate's own lists stay in force.
        assert self.service.trust.health(7).trust_list.version == 1


def test_poisoned_gate_still_opens_for_a_signed_command_and_again_after_a_restart(
    gate_config: GateConfig, mqtt_broker: Broker
) -> None:
    command_key = cast(ed25519.Ed25519PrivateKey, generate_private_key("EdDSA"))
    config = _gate_config(gate_config, mqtt_broker, command_key)
    _poison_retained(mqtt_broker)
    first = Run(config, mqtt_broker, command_key)
    first.start()
    try:
        _publish(mqtt_broker, [(topic, payload, False) for topic, payload in MORE_POISON])
        first.genuine_open_once("op-1")
        first.assert_control_plane_healthy()
    finally:
        first.service.stop()

    second = Run(config, mqtt_broker, command_key)  # the poison is still retained on every topic
    second.start()
    try:
        second.genuine_open_once("op-2")
        second.assert_control_plane_healthy()
    finally:
        second.service.stop()


class _ThreadKiller(BaseException):
    """Escapes every `except Exception`: what is left to end a worker thread."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_service_restarts_a_dead_control_worker_and_shows_it_on_the_status(
    gate_config: GateConfig, mqtt_broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    command_key = cast(ed25519.Ed25519PrivateKey, generate_private_key("EdDSA"))
    run = Run(_gate_config(gate_config, mqtt_broker, command_key), mqtt_broker, command_key)
    run.start()
    status = Subscriber(mqtt_broker, "gates/s1/g1/status", client_id="central-status")
    try:
        assert run.service.mqtt is not None
        control = run.service.mqtt.control
        handle_manual = run.service.controller.handle_manual

        def crash_once(*args: object) -> bool:
            monkeypatch.setattr(run.service.controller, "handle_manual", handle_manual)
            raise _ThreadKiller

        monkeypatch.setattr(run.service.controller, "handle_manual", crash_once)
        command = sign_command(
            command_key,
            name="open-once",
            site="s1",
            gate="g1",
            now=SystemClock().now(),
            operator="x",
        )
        _publish(mqtt_broker, [("gates/s1/g1/cmd/open-once", command, False)])
        assert status.wait_for(
            lambda msgs: any(
                "worker_mqtt_control" in json.loads(p).get("faults", {}) for _, p, _ in msgs
            )
        ), "a dead worker must show on the status while it is restarted"
        run.genuine_open_once("op-3")
        assert run.service.workers.restarts("mqtt-control") == 1
        assert control.worker_alive()
    finally:
        status.close()
        run.service.stop()
