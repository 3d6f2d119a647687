"""Hostile messages on every subscribed topic: refused, never fatal to the control plane."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock
from edge.credentials.trust.signed_document import open_document
from edge.credentials.trust.trustlist import IssuerKey, build_denylist, build_trust_list
from edge.errors import CommandError, TrustListError
from edge.faults import Fault
from edge.mqtt.control import ControlPlane
from edge.mqtt.settings import MqttSettings
from edge.mqtt.subscriptions import MessageHandler
from edge.service.supervisor import WorkerSupervisor
from edge.sim.credentials import SimCredentials
from edge.storage.trust_store import TrustStore
from edge.wire.commands import verify_command
from edge.wire.schema_files import load_schema
from tests.hostile import FIELD_POISON, commands, trust_documents
from tests.test_mqtt_control import KEY, PUBLIC_HEX, FakeStatus, _cmd
from tests.waiting import wait_until as _wait

COMMAND_NAMES = ("open-once", "reload-config", "refresh-trust", "clear-fault")
_WAIT_S = 10.0


class RecordingHandler:
    """Records executed commands; `crash` makes the next open-once raise it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.crash: BaseException | None = None
        self._changed = threading.Condition()

    def _record(self, name: str) -> None:
        with self._changed:
            self.calls.append(name)
            self._changed.notify_all()

    def open_once(self, operator: str, command_id: str) -> None:
        crash, self.crash = self.crash, None
        if crash is not None:
            raise crash
        self._record(f"open-once:{command_id}")

    def reload_config(self) -> None:
        self._record("reload-config")

    def refresh_trust(self) -> None:
        self._record("refresh-trust")

    def clear_fault(self, fault: str, command_id: str) -> None:
        self._record(f"clear-fault:{fault}")

    def wait_for(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.calls) >= count, _WAIT_S)


class Wire:
    """Delivers messages to the plane's subscriptions the way the MQTT publisher does."""

    def __init__(self) -> None:
        self.handlers: dict[str, MessageHandler] = {}
        self.results: list[tuple[str, bytes]] = []

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        self.handlers[topic_filter] = handler

    def resubscribe(self, topic_filter: str) -> bool:
        return False

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        self.results.append((topic, payload))

    def send(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        key = "gates/s1/g1/cmd/#" if topic.startswith("gates/") else topic
        self.handlers[key](topic, payload, retain=retain)


class Gate:
    """A control plane with the real trust store, fed through its worker thread."""

    def __init__(self, state: Path) -> None:
        self.clock = FakeClock()
        self.creds = SimCredentials.generate()
        root_path = self.creds.write(state, self.clock.now())
        self.trust = TrustStore(
            root_path.read_bytes(),
            state / "trust-list.json",
            state / "denylist.json",
            self.clock,
        )
        self.trust.load()
        self.handler, self.status, self.wire = RecordingHandler(), FakeStatus(), Wire()
        self.plane = ControlPlane(
            MqttSettings(command_public_key=PUBLIC_HEX, command_max_ttl_s=600),
            site="s1",
            gate="g1",
            state_dir=state,
            handler=self.handler,
            trust=self.trust,
            status=self.status,
            clock=self.clock,
        )
        self.plane.attach(self.wire)
        self._versions = itertools.count(2)

    def genuine_command(self, name: str) -> None:
        """A genuine signed command is executed after whatever came before it."""
        expected = len(self.handler.calls) + 1
        self.wire.send(f"gates/s1/g1/cmd/{name}", _cmd(self.clock, name))
        assert self.handler.wait_for(expected), f"genuine {name} not executed"

    def genuine_trust_update(self, topic: str) -> None:
        """A genuine newer trust list or denylist is installed after whatever came before."""
        version = next(self._versions)
        now = int(self.clock.now())
        if topic == "trust/trust-list":
            issuers = {
                name: [IssuerKey(key.public_key(), now - 86400, now + 86400)]
                for name, key in self.creds.issuer_keys.items()
            }
            document = build_trust_list(
                self.creds.root, issuers, version=version, issued_at=now, expires_at=now + 86400
            )
            kind = "trust_list"
        else:
            document = build_denylist(
                self.creds.root, [], [], version=version, issued_at=now, expires_at=now + 86400
            )
            kind = "denylist"
        self.wire.send(topic, document, retain=True)
        health = self.trust.health
        assert _wait(lambda: getattr(health(7), kind).version == version), (
            f"genuine {topic} refused"
        )

    def close(self) -> None:
        self.plane.stop()


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    live = Gate(tmp_path)
    yield live
    live.close()


def test_field_poison_leaves_the_control_plane_working(gate: Gate) -> None:
    for topic, payload in FIELD_POISON.items():
        full = topic if topic.startswith("trust/") else f"gates/s1/g1/{topic}"
        gate.wire.send(full, payload, retain=True)
    gate.genuine_command("open-once")
    gate.genuine_trust_update("trust/trust-list")
    gate.genuine_trust_update("trust/denylist")
    assert gate.plane.worker_alive()
    assert gate.handler.calls[0].startswith("open-once:")
    assert Fault.MQTT_CONTROL not in gate.status.faults


def test_arbitrary_bytes_on_each_command_topic(gate: Gate) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(name=st.sampled_from(COMMAND_NAMES), payload=commands)
    def poison_then_genuine(name: str, payload: bytes) -> None:
        before = len(gate.handler.calls)
        gate.wire.send(f"gates/s1/g1/cmd/{name}", payload, retain=True)
        gate.genuine_command(name)
        assert len(gate.handler.calls) == before + 1, "poison must never execute"
        assert gate.plane.worker_alive()

    poison_then_genuine()
    assert gate.plane.accepted == len(gate.handler.calls)
    # Every answer is a valid result on its own topic; only the genuine commands were executed.
    schema = load_schema("command-result")
    outcomes = []
    for topic, payload in gate.wire.results:
        result = json.loads(payload)
        jsonschema.validate(result, schema)
        assert topic == f"gates/s1/g1/cmd-result/{result['command_id']}"
        outcomes.append(result["outcome"])
    assert outcomes.count("executed") == gate.plane.accepted


def test_arbitrary_bytes_on_the_trust_topics(gate: Gate) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(topic=st.sampled_from(["trust/trust-list", "trust/denylist"]), payload=trust_documents)
    def poison_then_genuine(topic: str, payload: bytes) -> None:
        gate.wire.send(topic, payload, retain=True)
        gate.genuine_trust_update(topic)
        assert gate.plane.worker_alive()

    poison_then_genuine()
    assert gate.trust.problems == []


def _verify_open_once(payload: bytes) -> None:
    verify_command(
        payload,
        KEY.public_key(),
        topic_name="open-once",
        site="s1",
        gate="g1",
        now=1_767_225_600.0,
        max_ttl_s=600,
        skew_s=30,
    )


@settings(max_examples=300, deadline=None)
@given(payload=commands)
def test_command_verification_raises_only_command_errors(payload: bytes) -> None:
    with pytest.raises(CommandError):
        _verify_open_once(payload)


@settings(max_examples=300, deadline=None)
@given(payload=trust_documents)
def test_signed_documents_raise_only_trust_list_errors(payload: bytes) -> None:
    with pytest.raises(TrustListError):
        open_document(payload, KEY.public_key(), "trust_list")


def test_an_unforeseen_handler_error_is_reported_and_the_next_command_still_runs(
    gate: Gate,
) -> None:
    gate.handler.crash = RuntimeError("handler bug")
    gate.wire.send("gates/s1/g1/cmd/open-once", _cmd(gate.clock))
    assert _wait(lambda: Fault.MQTT_CONTROL in gate.status.faults)
    assert "RuntimeError" in gate.status.faults[Fault.MQTT_CONTROL]
    gate.genuine_command("open-once")
    assert gate.plane.worker_alive()
    assert Fault.MQTT_CONTROL not in gate.status.faults


class _ThreadKiller(BaseException):
    """Escapes every `except Exception`: the only way left to end a worker thread."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_control_worker_is_restarted_by_its_supervisor(gate: Gate) -> None:
    clock = FakeClock()
    supervisor = WorkerSupervisor(gate.status, clock, min_backoff_s=1.0, healthy_after_s=5.0)
    supervisor.watch("mqtt-control", gate.plane.worker_alive, gate.plane.revive)
    gate.handler.crash = _ThreadKiller()
    gate.wire.send("gates/s1/g1/cmd/open-once", _cmd(gate.clock))
    assert _wait(lambda: not gate.plane.worker_alive())
    # Messages arriving while the worker is down wait for the restarted one.
    gate.wire.send("gates/s1/g1/cmd/refresh-trust", _cmd(gate.clock, "refresh-trust"))
    assert supervisor.check() == []
    assert "restarting" in gate.status.faults["worker_mqtt_control"]
    clock.advance(1.0)
    assert supervisor.check() == ["mqtt-control"]
    assert gate.handler.wait_for(1) and gate.handler.calls == ["refresh-trust"]
    gate.genuine_command("open-once")
    clock.advance(5.0)
    supervisor.check()
    assert "worker_mqtt_control" not in gate.status.faults
    assert supervisor.restarts("mqtt-control") == 1


def test_an_oversized_command_is_refused_before_it_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[bytes] = []
    real_loads = json.loads

    def loads(data: bytes, **kwargs: object) -> object:
        decoded.append(data)
        return real_loads(data)

    monkeypatch.setattr(json, "loads", loads)
    payload = b'{"body": {}, "signature": "' + b"A" * (8 * 1024 * 1024) + b'"}'
    with pytest.raises(CommandError, match="over 4096"):
        _verify_open_once(payload)
    assert decoded == []
