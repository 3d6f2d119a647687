"""`gate-edge doctor`: fake hardware and a real mosquitto, checked from outside the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import jsonschema
import numpy as np
import pytest

from edge.app.config import parse_config
from edge.clock import SystemClock
from edge.doctor.checks import check_certificate, check_disk, check_trust
from edge.doctor.devices import focus_score
from edge.sim.credentials import SimCredentials
from edge.wire.schema_files import load_schema
from tests.broker import Broker, Subscriber
from tests.gate_support import GateConfig


def _config(gate_config: GateConfig, root: Path, broker_url: str) -> Path:
    return gate_config.file(
        root=root,
        site="doc",
        gate="g1",
        io={"passage_line": 5, "red_lamp_line": 6},
        mqtt={"enabled": True, "broker": broker_url},
    )


def _doctor(config: Path) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "edge", "doctor", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


@pytest.mark.slow
def test_doctor_names_the_missing_trust_list_then_passes_once_it_is_in_place(
    tmp_path: Path, mqtt_broker: Broker, gate_config: GateConfig
) -> None:
    creds = SimCredentials.generate()
    state = tmp_path / "state"
    root = creds.write(state, SystemClock().now())
    trust_list = state / "trust-list.json"
    saved = trust_list.read_bytes()
    trust_list.unlink()
    config = _config(gate_config, root, mqtt_broker.url)
    events = Subscriber(mqtt_broker, "gates/doc/g1/events", client_id="central-events")
    try:
        code, report, progress = _doctor(config)
        assert code == 1
        assert report["failed"] == ["trust.trust_list"]
        checks = {c["name"]: c for c in report["checks"]}
        assert "trust list missing" in checks["trust.trust_list"]["detail"]
        assert str(trust_list) in checks["trust.trust_list"]["detail"]
        assert checks["trust.trust_list"]["fix"]
        assert checks["broker"]["status"] == "pass"
        assert checks["device.thermometer"]["status"] == "pass"
        assert "[FAIL] trust.trust_list" in progress  # progress shown while it runs

        trust_list.write_bytes(saved)
        code, report, _ = _doctor(config)
        assert code == 0, report
        assert report["ok"] is True and report["event_published"] is True
        names = [c["name"] for c in report["checks"]]
        order = ["config", "files.trust_root", "device.thermometer", "broker", "trust.trust_list"]
        assert [n for n in names if n in order] == order
        assert names[-3:] == ["clock", "disk", "certificate"]

        assert events.wait_for(lambda msgs: len(msgs) >= 2)
        published = [json.loads(p) for _, p, _ in events.messages]
        for document in published:
            jsonschema.validate(document, load_schema("event"))
        assert [d["kind"] for d in published] == ["doctor", "doctor"]
        assert published[0]["reasons"] == ["trust.trust_list"]
        assert published[1]["reasons"] == []
    finally:
        events.close()


def test_doctor_reports_an_invalid_configuration_with_the_same_validation(
    gate_config: GateConfig,
) -> None:
    config = gate_config.file(site="s", policy={"fever_threshold_c": 99})
    code, report, _ = _doctor(config)
    assert code == 1 and report["failed"] == ["config"]
    checks = report["checks"]
    assert isinstance(checks, list) and len(checks) == 1
    assert "policy.fever_threshold_c" in checks[0]["detail"]


def test_doctor_judges_trust_lists_disk_and_certificate(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    creds = SimCredentials.generate()
    now = SystemClock().now()
    root = creds.write(tmp_path / "state", now)
    config = parse_config(
        gate_config(
            root=root,
            site="s",
            trust={"expiry_warning_days": 10},
            mqtt={"enabled": True, "cert_file": str(tmp_path / "absent.crt")},
        )
    )
    trust, deny = check_trust(config, now)
    assert trust.status == "warn" and "days left" in trust.detail  # 7 days < 10
    assert deny.status == "warn"
    expired = check_trust(config, now + 8 * 86400)[0]
    assert expired.status == "fail" and "expired" in expired.detail
    assert check_disk(config).status == "pass"
    cert = check_certificate(config, now, "gate.toml")
    assert cert.status == "fail" and "absent.crt" in cert.detail


def test_focus_score_tells_sharp_from_blurred() -> None:
    rng = np.random.default_rng(1)
    sharp = (rng.integers(0, 2, (90, 160)) * 255).astype(np.uint8)
    blurred = np.asarray(cv2.GaussianBlur(sharp, (31, 31), 10), dtype=np.uint8)
    assert focus_score(sharp) > 10 * focus_score(blurred)
    assert focus_score(np.zeros((90, 160, 3), np.uint8)) == 0.0


def test_doctor_names_each_missing_device_without_crashing(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    creds = SimCredentials.generate()
    root = creds.write(tmp_path / "state", SystemClock().now())
    config = gate_config.file(
        root=root,
        site="doc",
        gate="g1",
        camera={"source": "replay", "replay_path": str(tmp_path / "no-frames")},
        thermo={"backend": "mlx90614", "bus": 250},
        relay={"backend": "gpiod", "chip": "/dev/gpiochip99"},
        io={"backend": "gpiod", "chip": "/dev/gpiochip99", "passage_line": 5},
    )
    code, report, _ = _doctor(config)
    assert code == 1
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["device.thermometer"]["status"] == "fail"
    assert "/dev/i2c-250" in checks["device.thermometer"]["detail"]
    assert "dtparam=i2c_arm=on" in checks["device.thermometer"]["fix"]
    for part in ("device.camera", "device.relay", "device.io"):
        assert checks[part]["status"] == "fail", checks[part]
        assert checks[part]["fix"]
    assert "gpiochip99" in checks["device.relay"]["detail"]
    assert checks["broker"]["status"] == "skip"
