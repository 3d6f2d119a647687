"""`gate-edge events test|flush|pending` and `gate-edge certs csr` against a real mosquitto."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from paho.mqtt import publish

from central.cli import main as central
from edge.cli import main
from edge.cli.events_cmd import default_state_dir
from edge.clock import SystemClock
from edge.errors import PublishError
from edge.events import GateEvent
from edge.mqtt.publisher import EventPublisher, OutboxPublisher
from edge.mqtt.settings import MqttSettings
from edge.storage.outbox import Outbox
from edge.wire.commands import verify_command
from edge.wire.schema_files import load_schema
from edge.wire.topics import DENYLIST_TOPIC, TRUST_LIST_TOPIC, GateTopics
from tests.broker import Broker, Subscriber, free_port
from tests.gate_support import GateConfig
from tests.waiting import wait_until


def test_events_test_delivers_and_exits_zero(
    tmp_path: Path, mqtt_broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = Subscriber(mqtt_broker, "gates/test/test/events")
    state = tmp_path / "state"
    argv = ["events", "test", "--count", "120", "--broker", mqtt_broker.url]
    assert main([*argv, "--state-dir", str(state), "--timeout", "20"]) == 0
    assert "all events acknowledged" in capsys.readouterr().out
    assert sub.wait_for(lambda m: len(m) >= 120)
    docs = [json.loads(p) for _, p, _ in sub.messages]
    assert {d["kind"] for d in docs} == {"test"}
    assert sorted(d["seq"] for d in docs) == list(range(1, 121))
    assert main(["events", "pending", "--state-dir", str(state)]) == 0
    assert "pending: 0" in capsys.readouterr().out
    sub.close()


def test_events_test_without_a_broker_reports_pending_then_flush_delivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = Broker(tmp_path / "broker")
    state = ["--state-dir", str(tmp_path / "state"), "--broker", broker.url]
    assert main(["events", "test", "--count", "7", *state, "--timeout", "0.5"]) == 1
    assert "pending: 7" in capsys.readouterr().err
    assert main(["events", "pending", "--state-dir", str(tmp_path / "state")]) == 0
    report = capsys.readouterr().out
    assert "pending: 7" in report and "last seq: 7" in report
    with broker:
        assert main(["events", "flush", *state, "--timeout", "20"]) == 0
    assert main(["events", "pending", "--state-dir", str(tmp_path / "state")]) == 0
    assert "pending: 0" in capsys.readouterr().out


def test_config_file_sets_site_gate_and_broker(
    tmp_path: Path,
    mqtt_broker: Broker,
    capsys: pytest.CaptureFixture[str],
    gate_config: GateConfig,
) -> None:
    sub = Subscriber(mqtt_broker, "gates/#")
    config = gate_config.file(
        state=tmp_path / "cfg-state",
        site="east",
        gate="g07",
        mqtt={"enabled": True, "broker": f"mqtt://127.0.0.1:{free_port()}"},
    )
    argv = ["events", "test", "--count", "3", "--config", str(config)]
    assert main([*argv, "--broker", mqtt_broker.url, "--timeout", "20"]) == 0
    assert sub.wait_for(lambda m: len([t for t, _, _ in m if t == "gates/east/g07/events"]) >= 3)
    assert (tmp_path / "cfg-state" / "outbox.db").exists()
    sub.close()


def test_bad_broker_url_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["events", "flush", "--broker", "http://x", "--state-dir", str(tmp_path)]
    assert main(argv) == 2
    assert "broker URL" in capsys.readouterr().err


def test_default_state_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "/srv/state")
    assert default_state_dir() == Path("/srv/state/gate-edge")
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_state_dir() == Path("var")


def test_certs_csr_writes_a_private_key_and_a_csr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = tmp_path / "pki" / "gate"
    assert main(["certs", "csr", "--out", str(prefix), "--cn", "east.g07"]) == 0
    key, csr_file = Path(f"{prefix}.key"), Path(f"{prefix}.csr")
    assert key.stat().st_mode & 0o777 == 0o600
    csr = x509.load_pem_x509_csr(csr_file.read_bytes())
    assert csr.is_signature_valid
    cn = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "east.g07"
    assert b"PRIVATE KEY" not in csr_file.read_bytes()
    before = key.read_bytes()
    assert main(["certs", "csr", "--out", str(prefix), "--cn", "east.g07"]) == 2
    assert key.read_bytes() == before
    assert main(["certs", "csr", "--out", str(prefix), "--cn", "east.g07", "--force"]) == 0
    assert key.read_bytes() != before


def test_certs_csr_takes_its_defaults_from_the_gate_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], gate_config: GateConfig
) -> None:
    state = tmp_path / "state"
    config = gate_config.file(
        state=state, site="east", gate="g07", mqtt={"enabled": True, "key_file": "pki/device.key"}
    )
    assert main(["certs", "csr", "--config", str(config)]) == 0
    key, csr_file = state / "pki" / "device.key", state / "pki" / "device.csr"
    assert key.stat().st_mode & 0o777 == 0o600
    csr = x509.load_pem_x509_csr(csr_file.read_bytes())
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "east.g07"
    assert main(["certs", "csr"]) == 2  # neither --out/--cn nor --config
    assert "needs --out and --cn" in capsys.readouterr().err


def test_command_sign_output_is_accepted_by_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    key_file = tmp_path / "command.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    argv = ["command", "sign", "--key", str(key_file), "--site", "s1", "--gate", "g1"]
    assert central([*argv, "--command", "open-once", "--operator", "op-1"]) == 0
    captured = capsys.readouterr()
    assert "gates/s1/g1/cmd/open-once" in captured.err
    command = verify_command(
        captured.out.strip().encode(),
        key.public_key(),
        topic_name="open-once",
        site="s1",
        gate="g1",
        now=time.time(),
        max_ttl_s=3600,
        skew_s=60,
    )
    assert command.operator == "op-1"
    assert central([*argv, "--command", "clear-fault", "--fault", "relay_fault"]) == 0
    clear = verify_command(
        capsys.readouterr().out.strip().encode(),
        key.public_key(),
        topic_name="clear-fault",
        site="s1",
        gate="g1",
        now=time.time(),
        max_ttl_s=3600,
        skew_s=60,
    )
    assert clear.fault == "relay_fault"


def test_api_document_names_every_topic_and_schema() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "mqtt-api.yaml").read_text()
    assert doc.startswith("asyncapi: 3.")
    topics = GateTopics("{site}", "{gate}")
    for address in (topics.events, topics.status, topics.telemetry, TRUST_LIST_TOPIC):
        assert f"address: {address}" in doc
    assert f"address: {DENYLIST_TOPIC}" in doc
    assert "address: gates/{site}/{gate}/cmd/{command}" in doc
    for name in ("event", "status", "telemetry", "command", "trust-update"):
        assert f"edge/mqtt/schemas/{name}.json" in doc
        assert load_schema(name)["$id"] == f"gate-edge/{name}/1"


def _gate_config(gate_config: GateConfig, broker: Broker) -> Path:
    return gate_config.file(
        site="s1",
        gate="g1",
        mqtt={
            "enabled": True,
            "broker": broker.url,
            "reconnect_min_s": 0.1,
            "reconnect_max_s": 0.5,
        },
    )


class _Service:
    """The gate service's side: outbox plus a persistent-session publisher subscribed to cmd/#."""

    def __init__(self, tmp_path: Path, broker: Broker) -> None:
        self.commands: list[str] = []
        self.outbox = Outbox(
            tmp_path / "state" / "outbox.db", site="s1", gate="g1", clock=SystemClock()
        )
        settings = MqttSettings(broker=broker.url, reconnect_min_s=0.1, reconnect_max_s=0.5)
        self.publisher = EventPublisher(
            settings, site="s1", gate="g1", outbox=self.outbox, clock=SystemClock()
        )
        topics = GateTopics("s1", "g1")
        self.publisher.subscribe(
            topics.commands, lambda t, p, *, retain: self.commands.append(p.decode())
        )
        self.publisher.start()

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        return wait_until(predicate, timeout)

    def stop(self) -> None:
        self.publisher.stop()
        self.outbox.close()


def test_events_cli_beside_the_running_service_leaves_its_session_and_status(
    tmp_path: Path,
    mqtt_broker: Broker,
    capsys: pytest.CaptureFixture[str],
    gate_config: GateConfig,
) -> None:
    config = _gate_config(gate_config, mqtt_broker)
    topics = GateTopics("s1", "g1")
    status = Subscriber(mqtt_broker, topics.status, client_id="status-watch")
    events = Subscriber(mqtt_broker, topics.events, client_id="event-watch")
    service = _Service(tmp_path, mqtt_broker)
    assert status.wait_for(lambda m: len(m) >= 1)
    service.outbox.emit_many(GateEvent(kind="test") for _ in range(3))
    argv = ["events", "test", "--count", "5", "--config", str(config), "--timeout", "20"]
    assert main(argv) == 0
    assert main(["events", "flush", "--config", str(config), "--timeout", "20"]) == 0
    service.outbox.emit_many(GateEvent(kind="test") for _ in range(2))
    assert service.publisher.wait_drained(10)
    assert service.outbox.depth() == 0
    # One outbox file, two writers: ten events, seq 1..10, one event id per seq.
    assert events.wait_for(lambda m: {json.loads(p)["seq"] for _, p, _ in m} >= set(range(1, 11)))
    ids: dict[int, set[str]] = {}
    for _, payload, _ in events.messages:
        doc = json.loads(payload)
        ids.setdefault(doc["seq"], set()).add(doc["event_id"])
    assert sorted(ids) == list(range(1, 11)) and all(len(v) == 1 for v in ids.values())
    # The service kept its connection: a command reaches it, status never went offline.
    publish.single(topics.command("reload-config"), b"cmd-1", qos=1, port=mqtt_broker.port)
    assert service.wait(lambda: service.commands == ["cmd-1"])
    states = [json.loads(p)["state"] for _, p, _ in status.messages]
    assert states == ["online"]
    assert service.publisher.connected
    log = mqtt_broker.log_file.read_text() if mqtt_broker.log_file else ""
    assert "already connected" not in log
    assert f"as gate-edge-s1.g1-cli-{os.getpid()} (p5, c1" in log
    service.stop()
    status.close()
    events.close()


def test_events_flush_while_the_service_is_away_leaves_its_queued_commands(
    tmp_path: Path,
    mqtt_broker: Broker,
    capsys: pytest.CaptureFixture[str],
    gate_config: GateConfig,
) -> None:
    config = _gate_config(gate_config, mqtt_broker)
    topics = GateTopics("s1", "g1")
    service = _Service(tmp_path, mqtt_broker)
    assert service.wait(lambda: service.publisher.connected)
    service.stop()  # persistent session: commands now queue at the broker
    publish.single(topics.command("refresh-trust"), b"queued", qos=1, port=mqtt_broker.port)
    assert main(["events", "test", "--count", "2", "--config", str(config), "--timeout", "20"]) == 0
    late = Subscriber(mqtt_broker, topics.status, client_id="status-late")
    assert late.wait_for(lambda m: len(m) >= 1)
    # The retained status is still the service's own "offline" from its orderly stop.
    assert json.loads(late.messages[-1][1])["state"] == "offline"
    assert json.loads(late.messages[-1][1])["ts"] is not None
    late.close()
    back = _Service(tmp_path, mqtt_broker)
    assert back.wait(lambda: back.commands == ["queued"])
    assert back.outbox.last_seq() == 2
    back.stop()


def test_tool_publisher_has_its_own_client_id_and_never_subscribes(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
    settings = MqttSettings(broker="mqtt://127.0.0.1:1", client_id="gate-7")
    tool = OutboxPublisher(settings, site="s1", gate="g1", outbox=outbox, clock=SystemClock())
    assert tool._client._client_id == f"gate-7-cli-{os.getpid()}".encode()
    assert tool._client._will is False
    with pytest.raises(PublishError):
        tool.subscribe("gates/s1/g1/cmd/#", lambda t, p, *, retain: None)
    service = EventPublisher(settings, site="s1", gate="g1", outbox=outbox, clock=SystemClock())
    assert service._client._client_id == b"gate-7"
    assert service._client._will is True
    outbox.close()
