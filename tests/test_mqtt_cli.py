"""`gate-edge events test|flush|pending` and `gate-edge certs csr` against a real mosquitto."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from edge.cli import main
from edge.cli.events_cmd import default_state_dir
from edge.mqtt.commands import verify_command
from edge.mqtt.payloads import load_schema
from edge.mqtt.topics import DENYLIST_TOPIC, TRUST_LIST_TOPIC, GateTopics
from tests.broker import Broker, Subscriber, free_port


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
    tmp_path: Path, mqtt_broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = Subscriber(mqtt_broker, "gates/#")
    config = tmp_path / "gate.toml"
    config.write_text(
        f'[gate]\nsite = "east"\ngate = "g07"\n[mqtt]\nbroker = "mqtt://127.0.0.1:{free_port()}"\n'
        f'[storage]\nstate_dir = "{tmp_path / "cfg-state"}"\n'
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
    assert main([*argv, "--command", "open-once", "--operator", "op-1"]) == 0
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
