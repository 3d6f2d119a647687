"""Control plane: signed commands (signature, addressee, expiry, replay) and trust updates."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt import publish

from central.commands import sign_command
from edge.clock import FakeClock, SystemClock
from edge.credentials.trust.signed_document import sign_document
from edge.errors import CommandError, TrustListError
from edge.events import GateEvent
from edge.mqtt.control import ControlPlane
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.storage.outbox import Outbox
from edge.wire.commands import load_command_key
from edge.wire.schema_files import load_schema
from tests.broker import Broker
from tests.waiting import wait_until

KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC_HEX = KEY.public_key().public_bytes_raw().hex()
CMD = "gates/s1/g1/cmd/"


class FakeHandler:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def open_once(self, operator: str, command_id: str) -> None:
        self.calls.append(("open-once", operator, command_id))

    def reload_config(self) -> None:
        self.calls.append(("reload-config",))

    def refresh_trust(self) -> None:
        self.calls.append(("refresh-trust",))

    def clear_fault(self, fault: str, command_id: str) -> None:
        self.calls.append(("clear-fault", fault, command_id))


class FakeTrust:
    """Accepts documents whose payload says good; TrustListError otherwise."""

    def __init__(self) -> None:
        self.installed: list[tuple[str, int]] = []

    def _update(self, kind: str, data: bytes) -> int:
        doc = json.loads(data)
        if doc.get("payload") != "good":
            raise TrustListError(f"{kind}: signature does not verify")
        self.installed.append((kind, len(self.installed) + 1))
        return len(self.installed)

    def update_trust_list(self, data: bytes) -> int:
        return self._update("trust list", data)

    def update_denylist(self, data: bytes) -> int:
        return self._update("denylist", data)


class FakeStatus:
    def __init__(self) -> None:
        self.faults: dict[str, str] = {}

    def set_fault(self, name: str, detail: str) -> None:
        self.faults[name] = detail

    def clear_fault(self, name: str) -> None:
        self.faults.pop(name, None)


def _plane(
    tmp_path: Path, clock: FakeClock, key: str = PUBLIC_HEX
) -> tuple[ControlPlane, FakeHandler, FakeTrust, FakeStatus]:
    handler, trust, status = FakeHandler(), FakeTrust(), FakeStatus()
    plane = ControlPlane(
        MqttSettings(command_public_key=key, command_max_ttl_s=600, command_clock_skew_s=30),
        site="s1",
        gate="g1",
        state_dir=tmp_path,
        handler=handler,
        trust=trust,
        status=status,
        clock=clock,
    )
    return plane, handler, trust, status


def _cmd(clock: FakeClock, name: str = "open-once", **kw: Any) -> bytes:
    kw.setdefault("operator", "op-7" if name == "open-once" else None)
    kw.setdefault("fault", "relay_fault" if name == "clear-fault" else None)
    kw.setdefault("site", "s1")
    kw.setdefault("gate", "g1")
    return sign_command(KEY, name=name, now=clock.now(), **kw)


def test_signed_commands_are_executed_and_match_the_schema(tmp_path: Path) -> None:
    clock = FakeClock()
    plane, handler, _, _ = _plane(tmp_path, clock)
    names = ("open-once", "reload-config", "refresh-trust", "clear-fault")
    for name in names:
        payload = _cmd(clock, name)
        jsonschema.validate(json.loads(payload), load_schema("command"))
        assert plane.handle(CMD + name, payload) == "executed"
    assert [c[0] for c in handler.calls] == list(names)
    assert handler.calls[0][1] == "op-7"
    assert uuid.UUID(handler.calls[0][2])
    assert handler.calls[3][1] == "relay_fault"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda c: _cmd(c, "clear-fault", fault=None), "needs a fault name"),
        (lambda c: _cmd(c, "refresh-trust", fault="relay_fault"), "only clear-fault"),
        (lambda c: _cmd(c, "clear-fault", fault="Relay Fault!"), "fault name"),
    ],
)
def test_clear_fault_must_name_one_fault(
    tmp_path: Path, make: Callable[[FakeClock], bytes], why: str
) -> None:
    clock = FakeClock()
    plane, handler, _, _ = _plane(tmp_path, clock)
    payload = make(clock)
    name = json.loads(payload)["body"]["command"]
    outcome = plane.handle(CMD + name, payload)
    assert outcome.startswith("refused") and why in outcome
    assert handler.calls == []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(payload), load_schema("command"))


def test_replayed_command_is_refused_even_after_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    plane, handler, _, _ = _plane(tmp_path, clock)
    payload = _cmd(clock)
    assert plane.handle(CMD + "open-once", payload) == "executed"
    assert "replay" in plane.handle(CMD + "open-once", payload)
    plane.stop()
    again, handler2, _, _ = _plane(tmp_path, clock)
    assert "replay" in again.handle(CMD + "open-once", payload)
    assert len(handler.calls) == 1 and handler2.calls == []


@pytest.mark.parametrize(
    ("topic", "make", "why"),
    [
        ("open-once", lambda c: _cmd(c, gate="g2"), "addressed to s1/g2"),
        ("open-once", lambda c: _cmd(c, site="s2"), "addressed to s2/g1"),
        ("reload-config", _cmd, "sent on the 'reload-config' topic"),
        ("open-once", lambda c: _cmd(c, operator=None), "operator"),
        ("open-once", lambda c: _cmd(c, operator="Jane Doe"), "operator"),
        ("open-once", lambda c: _cmd(c, ttl_s=601), "longer than allowed"),
        ("open-once", lambda c: _cmd(c, command_id="not-a-uuid"), "UUID"),
        ("open-once", lambda c: b"{}", "malformed"),
        ("open-once", lambda c: b"\xff\xfe", "malformed"),
        ("open-once", lambda c: b'{"body": [], "signature": ""}', "malformed"),
    ],
)
def test_bad_commands_are_refused(tmp_path: Path, topic: str, make: Any, why: str) -> None:
    clock = FakeClock()
    plane, handler, _, _ = _plane(tmp_path, clock)
    outcome = plane.handle(CMD + topic, make(clock))
    assert outcome.startswith("refused") and why in outcome
    assert handler.calls == []


def test_stale_and_future_commands_are_refused(tmp_path: Path) -> None:
    clock = FakeClock()
    plane, handler, _, _ = _plane(tmp_path, clock)
    old = _cmd(clock, ttl_s=60)
    clock.advance(60 + 31)
    assert "expired" in plane.handle(CMD + "open-once", old)
    future = sign_command(
        KEY, name="open-once", site="s1", gate="g1", operator="op", now=clock.now() + 120
    )
    assert "future" in plane.handle(CMD + "open-once", future)
    assert handler.calls == []


def test_tampered_or_foreign_signatures_are_refused(tmp_path: Path) -> None:
    clock = FakeClock()
    plane, handler, _, _ = _plane(tmp_path, clock)
    envelope = json.loads(_cmd(clock))
    envelope["body"]["operator"] = "someone-else"
    assert "signature" in plane.handle(CMD + "open-once", json.dumps(envelope).encode())
    other = ed25519.Ed25519PrivateKey.generate()
    foreign = sign_command(other, name="open-once", site="s1", gate="g1", operator="o", now=0)
    assert "signature" in plane.handle(CMD + "open-once", foreign)
    assert handler.calls == []


def test_without_a_key_every_command_is_refused(tmp_path: Path) -> None:
    clock = FakeClock()
    plane, handler, _, status = _plane(tmp_path, clock, key="")
    assert "no command key" in plane.handle(CMD + "open-once", _cmd(clock))
    broken, _, _, status = _plane(tmp_path / "b", clock, key="/nonexistent.pem")
    assert "command_key" in status.faults
    assert broken.handle(CMD + "reload-config", _cmd(clock, "reload-config")).startswith("refused")
    assert handler.calls == []


def test_command_key_formats(tmp_path: Path) -> None:
    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "k.pem").write_bytes(pem)
    for value in (PUBLIC_HEX, pem.decode(), str(tmp_path / "k.pem")):
        assert load_command_key(value).public_bytes_raw() == KEY.public_key().public_bytes_raw()
    with pytest.raises(CommandError):
        load_command_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")


@settings(max_examples=150, deadline=None)
@given(payload=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_payloads_never_execute(
    tmp_path_factory: pytest.TempPathFactory, payload: bytes
) -> None:
    clock = FakeClock()
    plane, handler, _, _ = _plane(tmp_path_factory.mktemp("c"), clock)
    assert plane.handle(CMD + "open-once", payload).startswith("refused")
    assert handler.calls == []
    plane.stop()


def test_bad_trust_update_is_reported_and_ignored(tmp_path: Path) -> None:
    clock = FakeClock()
    plane, _, _trust, status = _plane(tmp_path, clock)
    good = json.dumps({"payload": "good", "signature": "AA=="}).encode()
    bad = json.dumps({"payload": "evil", "signature": "AA=="}).encode()
    assert plane.handle("trust/trust-list", good) == "installed 1"
    assert plane.handle("trust/trust-list", bad).startswith("refused")
    assert "signature" in status.faults["trust_list"]
    assert plane.handle("trust/denylist", b"") == "ignored"
    assert plane.handle("trust/denylist", good) == "installed 2"
    assert plane.handle("trust/trust-list", good) == "installed 3"
    assert status.faults == {}
    assert plane.handle("gates/s1/g1/events", good) == "ignored"


def test_real_trust_documents_match_the_trust_update_schema() -> None:
    root = ed25519.Ed25519PrivateKey.generate()
    doc = sign_document({"type": "hcn1-denylist", "version": 3}, root)
    jsonschema.validate(json.loads(doc), load_schema("trust-update"))


def test_control_plane_over_the_broker(tmp_path: Path, mqtt_broker: Broker) -> None:
    """Retained trust documents reach a gate that connects later; commands are executed."""

    good = json.dumps({"payload": "good", "signature": "AA=="}).encode()
    publish.single("trust/denylist", good, qos=1, retain=True, port=mqtt_broker.port)
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
    settings_ = MqttSettings(broker=mqtt_broker.url, command_public_key=PUBLIC_HEX)
    publisher = EventPublisher(settings_, site="s1", gate="g1", outbox=outbox, clock=SystemClock())
    handler, trust = FakeHandler(), FakeTrust()
    plane = ControlPlane(
        settings_,
        site="s1",
        gate="g1",
        state_dir=tmp_path,
        handler=handler,
        trust=trust,
        status=publisher,
        clock=SystemClock(),
    )
    plane.attach(publisher)
    publisher.start()
    outbox.emit(GateEvent(kind="test"))
    assert publisher.wait_drained(10)
    clock = FakeClock(start=time.time())
    publish.single(CMD + "open-once", _cmd(clock), qos=1, port=mqtt_broker.port)
    bad = json.dumps({"payload": "evil", "signature": "AA=="}).encode()
    publish.single("trust/trust-list", bad, qos=1, retain=True, port=mqtt_broker.port)
    wait_until(lambda: bool(handler.calls) and "trust_list" in publisher.faults(), 10)
    assert trust.installed == [("denylist", 1)]
    assert handler.calls[0][:2] == ("open-once", "op-7")
    assert "trust_list" in publisher.faults()
    plane.stop()
    publisher.stop()


def test_refresh_trust_asks_the_broker_for_the_retained_documents_again(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    good = json.dumps({"payload": "good", "signature": "AA=="}).encode()
    publish.single("trust/denylist", good, qos=1, retain=True, port=mqtt_broker.port)
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
    settings_ = MqttSettings(broker=mqtt_broker.url, command_public_key=PUBLIC_HEX)
    publisher = EventPublisher(settings_, site="s1", gate="g1", outbox=outbox, clock=SystemClock())
    trust = FakeTrust()
    plane = ControlPlane(
        settings_,
        site="s1",
        gate="g1",
        state_dir=tmp_path,
        handler=FakeHandler(),
        trust=trust,
        status=publisher,
        clock=SystemClock(),
    )
    assert not plane.refetch_trust()  # not attached yet
    plane.attach(publisher)
    publisher.start()
    try:
        wait_until(lambda: bool(trust.installed), 10)
        assert trust.installed == [("denylist", 1)]
        assert plane.refetch_trust()
        wait_until(lambda: len(trust.installed) >= 2, 10)
        assert [kind for kind, _ in trust.installed] == ["denylist", "denylist"]  # once more
    finally:
        plane.stop()
        publisher.stop()
        outbox.close()
