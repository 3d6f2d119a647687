"""Broker problems named by cause against real mosquitto: DNS, refused, TLS, certificate, ACL."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from edge.cli import main
from edge.clock import SystemClock
from edge.doctor.runner import run_doctor
from edge.mqtt.diagnose import TroubleReporter, diagnose_transport, probe_broker
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.sim.broker import LocalBroker
from edge.sim.credentials import SimCredentials
from edge.storage.outbox import Outbox
from tests.broker import Broker, CertificateAuthority, free_port
from tests.gate_support import GateConfig
from tests.waiting import wait_until as _wait

pytestmark = pytest.mark.slow


def test_nothing_listening_is_refused() -> None:
    result = diagnose_transport(MqttSettings(broker=f"mqtt://127.0.0.1:{free_port()}"))
    assert result.cause == "refused" and "refused" in result.detail


def test_unknown_host_is_dns() -> None:
    result = diagnose_transport(MqttSettings(broker="mqtt://no-such-broker.invalid:1883"))
    assert result.cause == "dns" and "no-such-broker.invalid" in result.detail


def test_tls_against_a_plain_port_says_so(mqtt_broker: Broker) -> None:
    url = mqtt_broker.url.replace("mqtt://", "mqtts://")
    result = diagnose_transport(MqttSettings(broker=url))
    assert result.cause in ("tls_not_offered",), result
    assert "mqtt://" in result.fix


def test_wrong_ca_names_the_ca_file(tmp_path: Path, tls_broker: Broker) -> None:
    other = CertificateAuthority(tmp_path / "other-ca")
    result = diagnose_transport(MqttSettings(broker=tls_broker.url, ca_file=str(other.ca_file)))
    assert result.cause == "tls_verify"
    assert str(other.ca_file) in result.detail


def test_missing_tls_file_is_named(tmp_path: Path, tls_broker: Broker) -> None:
    missing = tmp_path / "absent-ca.pem"
    result = diagnose_transport(MqttSettings(broker=tls_broker.url, ca_file=str(missing)))
    assert result.cause == "tls_files" and str(missing) in result.detail


def test_a_certificate_from_another_ca_is_rejected(tmp_path: Path) -> None:
    with Broker(tmp_path / "broker", mutual=True, acl={"s1.g1": ["topic write x"]}) as broker:
        assert broker.ca is not None
        stranger = CertificateAuthority(tmp_path / "stranger")
        cert, key = stranger.issue("s1.g1")
        settings = MqttSettings(
            broker=broker.url,
            ca_file=str(broker.ca.ca_file),
            cert_file=str(cert),
            key_file=str(key),
        )
        result = diagnose_transport(settings)
        assert result.cause == "certificate_rejected", result
        good_cert, good_key = broker.ca.issue("s1.g1")
        good = MqttSettings(
            broker=broker.url,
            ca_file=str(broker.ca.ca_file),
            cert_file=str(good_cert),
            key_file=str(good_key),
        )
        assert probe_broker(good, "doctor-test").ok


def test_no_client_certificate_on_a_mutual_tls_broker_is_rejected(tmp_path: Path) -> None:
    with Broker(tmp_path / "broker", mutual=True, acl={"s1.g1": ["topic write x"]}) as broker:
        assert broker.ca is not None
        result = diagnose_transport(MqttSettings(broker=broker.url, ca_file=str(broker.ca.ca_file)))
        assert result.cause == "certificate_rejected", result


def test_probe_connects_to_a_plain_broker(mqtt_broker: Broker) -> None:
    result = probe_broker(MqttSettings(broker=mqtt_broker.url), "doctor-test")
    assert result.ok, result


def test_events_test_names_a_refused_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    argv = ["events", "test", "--count", "2", "--broker", url, "--state-dir", str(tmp_path)]
    assert main([*argv, "--timeout", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "pending: 2" in err
    assert "broker: refused:" in err


def test_events_flush_names_a_wrong_ca(
    tmp_path: Path,
    tls_broker: Broker,
    capsys: pytest.CaptureFixture[str],
    gate_config: GateConfig,
) -> None:
    other = CertificateAuthority(tmp_path / "other-ca")
    config = gate_config.file(
        site="s1",
        gate="g1",
        mqtt={"enabled": True, "broker": tls_broker.url, "ca_file": str(other.ca_file)},
    )
    assert main(["events", "test", "--count", "1", "--config", str(config), "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert "broker: tls_verify:" in err and str(other.ca_file) in err


def test_the_service_logs_a_rejected_certificate_at_warning_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Broker(tmp_path / "broker", mutual=True, acl={"s1.g1": ["topic write x"]}) as broker:
        assert broker.ca is not None
        cert, key = CertificateAuthority(tmp_path / "stranger").issue("s1.g1")
        settings = MqttSettings(
            broker=broker.url,
            ca_file=str(broker.ca.ca_file),
            cert_file=str(cert),
            key_file=str(key),
            reconnect_min_s=0.2,
            reconnect_max_s=0.5,
        )
        outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
        publisher = EventPublisher(
            settings, site="s1", gate="g1", outbox=outbox, clock=SystemClock()
        )
        with caplog.at_level(logging.WARNING, logger="edge.mqtt"):
            publisher.start()
            try:
                assert _wait(lambda: publisher.trouble.last is not None)
            finally:
                publisher.stop()
                outbox.close()
        last = publisher.trouble.last
        assert last is not None and last.cause == "certificate_rejected"
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert any("certificate_rejected" in r.getMessage() for r in warnings)


def test_not_authorised_and_client_id_taken_over_are_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with LocalBroker(tmp_path / "closed", allow_anonymous=False) as closed:
        result = probe_broker(MqttSettings(broker=closed.url), "doctor-test")
        assert result.cause == "not_authorised", result
    with Broker(tmp_path / "open") as broker:
        settings = MqttSettings(broker=broker.url, client_id="same-id", reconnect_max_s=30.0)
        first = Outbox(tmp_path / "a.db", site="s1", gate="g1", clock=SystemClock())
        second = Outbox(tmp_path / "b.db", site="s1", gate="g1", clock=SystemClock())
        one = EventPublisher(settings, site="s1", gate="g1", outbox=first, clock=SystemClock())
        two = EventPublisher(settings, site="s1", gate="g1", outbox=second, clock=SystemClock())
        with caplog.at_level(logging.WARNING, logger="edge.mqtt"):
            one.start()
            assert _wait(lambda: one.connected)
            two.start()
            try:
                assert _wait(lambda: "taken_over" in caplog.text)
            finally:
                two.stop()
                one.stop()
                first.close()
                second.close()
        named = [r.getMessage() for r in caplog.records if "taken_over" in r.getMessage()]
        assert named and "same-id" in named[0]
        assert all(
            r.levelno == logging.WARNING for r in caplog.records if "taken_over" in r.getMessage()
        )


def test_the_service_logs_a_wrong_ca_at_warning_level_naming_the_file(
    tmp_path: Path, tls_broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    other = CertificateAuthority(tmp_path / "other-ca")
    settings = MqttSettings(
        broker=tls_broker.url, ca_file=str(other.ca_file), reconnect_min_s=0.2, reconnect_max_s=0.5
    )
    outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
    publisher = EventPublisher(settings, site="s1", gate="g1", outbox=outbox, clock=SystemClock())
    with caplog.at_level(logging.WARNING, logger="edge.mqtt"):
        publisher.start()
        try:
            assert _wait(lambda: "tls_verify" in caplog.text)
        finally:
            publisher.stop()
            outbox.close()
    named = [r for r in caplog.records if "tls_verify" in r.getMessage()]
    assert named[0].levelno == logging.WARNING
    assert str(other.ca_file) in named[0].getMessage()
    assert len(named) == 1  # once, not at every reconnect


def test_doctor_fails_the_broker_check_when_the_acl_refuses_the_gates_events(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    acl = {"s1.g3": ["topic write gates/s1/g3/status"]}
    with Broker(tmp_path / "broker", mutual=True, acl=acl) as broker:
        assert broker.ca is not None
        cert, key = broker.ca.issue("s1.g3")
        creds = SimCredentials.generate()
        state = tmp_path / "state"
        root = creds.write(state, SystemClock().now())
        config = gate_config.file(
            root=root,
            site="s1",
            gate="g3",
            mqtt={
                "enabled": True,
                "broker": broker.url,
                "ca_file": str(broker.ca.ca_file),
                "cert_file": str(cert),
                "key_file": str(key),
            },
        )
        report = run_doctor(str(config))
    checks = {r.name: r for r in report.results}
    assert checks["broker"].status == "fail"
    assert "not_authorised" in checks["broker"].detail
    assert checks["certificate"].status == "warn"  # the test CA issues one-day certificates
    assert not report.ok and not report.event_published


def test_the_service_names_a_refused_login_once_as_not_authorised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with LocalBroker(tmp_path / "closed", allow_anonymous=False) as closed:
        settings = MqttSettings(broker=closed.url, reconnect_min_s=0.2, reconnect_max_s=0.3)
        outbox = Outbox(tmp_path / "outbox.db", site="s1", gate="g1", clock=SystemClock())
        publisher = EventPublisher(
            settings, site="s1", gate="g1", outbox=outbox, clock=SystemClock()
        )
        with caplog.at_level(logging.WARNING, logger="edge.mqtt"):
            publisher.start()
            try:
                assert _wait(lambda: "not_authorised" in caplog.text)
                time.sleep(1.5)  # several reconnects
            finally:
                publisher.stop()
                outbox.close()
    messages = [r.getMessage() for r in caplog.records if "broker connection" in r.getMessage()]
    assert len(messages) == 1 and "not_authorised" in messages[0], messages


def test_closes_right_after_each_publish_are_a_refusal_not_a_taken_over_id() -> None:
    settings = MqttSettings(broker="mqtt://127.0.0.1:1")
    logger = logging.getLogger("test.trouble")
    refusing = TroubleReporter(settings, "gate-a", logger=logger, quiet=True)
    for _ in range(3):
        refusing.session_ended(0.05, unacked_topic="gates/s/g/events")
    assert refusing.last is not None and refusing.last.cause == "not_authorised"
    assert "gates/s/g/events" in refusing.last.detail

    flapping = TroubleReporter(settings, "gate-a", logger=logger, quiet=True)
    flapping.session_ended(0.05, unacked_topic="gates/s/g/events")
    flapping.session_ended(0.05)  # one close with nothing in flight: not the ACL
    flapping.session_ended(0.05, unacked_topic="gates/s/g/events")
    assert flapping.last is not None and flapping.last.cause == "taken_over"
