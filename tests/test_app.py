"""The composition root: clock guard, control-plane handlers, fault mapping, manual passes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from edge.app.commands import EXIT_RESTART
from edge.app.config import Config, parse_config
from edge.app.gate import GateService
from edge.app.verification import read_root_key
from edge.clock import SystemClock
from edge.core.records import DecisionRecord
from edge.errors import ConfigError
from edge.faults import Fault
from edge.scan.result import ScanComponent, ScanFault
from edge.service.clockguard import EARLIEST_PLAUSIBLE_EPOCH, ClockWatch, judge_clock
from edge.sim.credentials import SimCredentials
from edge.sim.rig import SimGate
from edge.sim.scenario import NORMAL_SKIN_C
from edge.wire.documents import telemetry_document
from edge.wire.schema_files import load_schema
from tests.gate_support import GateConfig, gate_settings
from tests.waiting import wait_until


def test_clock_before_2026_is_unusable() -> None:
    verdict = judge_clock(EARLIEST_PLAUSIBLE_EPOCH - 1, None, 30)
    assert not verdict.usable
    assert verdict.problem is not None and "before 2026" in verdict.problem


def test_clock_behind_a_recorded_time_is_unusable_within_skew_it_is_fine() -> None:
    now = EARLIEST_PLAUSIBLE_EPOCH + 10_000
    assert judge_clock(now, now + 29, 30).usable
    behind = judge_clock(now, now + 600, 30)
    assert not behind.usable
    assert behind.problem is not None and "600 s behind trusted time" in behind.problem


def test_clock_watch_keeps_a_high_water_mark(tmp_path: Path) -> None:
    watch = ClockWatch(tmp_path / "mark", 30, read_sync=lambda: (True, 50.0, 0.0))
    now = EARLIEST_PLAUSIBLE_EPOCH + 50_000
    assert watch.check(now, 100.0).usable
    unsynchronised = ClockWatch(tmp_path / "mark", 30, read_sync=lambda: (False, 16000.0, 0.0))
    assert not unsynchronised.check(now - 3600, 101.0).usable  # stepped back an hour
    assert watch.check(now + 5, 105.0).usable


def _config(state: Path, root: Path, **policy: object) -> Config:
    return parse_config(gate_settings(state, root, policy=policy))


class Rig:
    def __init__(self, tmp: Path, **policy: object) -> None:
        self.creds = SimCredentials.generate()
        self.state = tmp / "state"
        self.root = self.creds.write(self.state, SystemClock().now())
        self.config = _config(self.state, self.root, **policy)
        self.sim = SimGate(SystemClock())
        self.sim.turnstile.walk_delay_s = 0.01
        self.records: list[DecisionRecord] = []
        self.decided = threading.Event()
        self.service = GateService(
            self.config, self.sim.hardware, config_path=None, on_decision=self._record
        )

    def _record(self, record: DecisionRecord) -> None:
        if record.outcome is None:
            self.records.append(record)
            self.decided.set()

    def wait_decision(self) -> DecisionRecord:
        assert self.decided.wait(10), "no decision"
        self.decided.clear()
        # The decision is told before the cooldown ends; the next presentation waits for it.
        assert self.service.controller.wait_idle(10), "the gate stayed busy"
        return self.records[-1]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path)
    made.service.start()
    yield made
    made.service.stop()


def test_missing_root_key_is_a_config_error_before_hardware(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "absent.pem")
    with pytest.raises(ConfigError) as caught:
        read_root_key(config)
    assert caught.value.problems[0].startswith("trust.root_public_key: cannot read")


def test_central_open_once_is_a_manual_pass_with_temperature(rig: Rig) -> None:
    rig.sim.person_arrives(NORMAL_SKIN_C)
    rig.service.commands.open_once("operator-17", "cmd-1")
    record = rig.wait_decision()
    assert (record.verdict, record.method, record.operator) == ("pass", "manual", "operator-17")
    assert record.temperature_c is not None


def test_manual_button_without_a_person_is_denied(rig: Rig) -> None:
    rig.sim.manual_button.press(hold_s=0.05)
    record = rig.wait_decision()
    assert record.verdict == "deny"
    assert record.reasons == ("temperature_unavailable",)
    assert record.operator == "gate-attendant"


def test_scan_faults_map_to_their_component_and_leave_manual_passes_possible(rig: Rig) -> None:
    rig.service.intake.scan_fault(ScanFault(ScanComponent.CAMERA, "device vanished"))
    rig.service.intake.scan_fault(ScanFault(ScanComponent.SERIAL_SCANNER, "port closed"))
    assert {"camera_fault", "serial_scanner_fault"} <= set(rig.service.controller.faults)
    rig.sim.person_arrives(NORMAL_SKIN_C)
    rig.service.commands.open_once("operator-1", "cmd-2")
    record = rig.wait_decision()
    assert record.verdict == "pass"  # the camera is broken, the attendant's pass still works


def test_clear_fault_lifts_a_relay_fault_and_restarts_for_an_unopened_device(rig: Rig) -> None:
    rig.service.controller.report_fault(Fault.RELAY_FAULT, "pulse failed: board not answering")
    rig.sim.person_arrives(NORMAL_SKIN_C)
    rig.service.commands.open_once("operator-1", "cmd-4")
    assert rig.wait_decision().reasons == ("relay_fault",)
    rig.service.commands.clear_fault("relay", "cmd-5a")  # only the published name lifts it
    assert "relay_fault" in rig.service.controller.faults
    rig.service.commands.clear_fault("relay_fault", "cmd-5")
    assert "relay_fault" not in rig.service.controller.faults
    rig.sim.person_arrives(NORMAL_SKIN_C)
    rig.service.commands.open_once("operator-1", "cmd-6")
    assert rig.wait_decision().verdict == "pass"

    rig.service.hardware.faults[Fault.DOCUMENT_READER_FAULT] = "could not be opened"
    rig.service.controller.report_fault(Fault.DOCUMENT_READER_FAULT, "could not be opened")
    rig.service.commands.clear_fault("document_reader_fault", "cmd-7")
    assert rig.service.wait(2.0)  # asked to stop: systemd restarts it and it opens the reader
    assert rig.service._exit_code == EXIT_RESTART


def test_a_clock_behind_the_mark_latches_clock_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edge.service.clockguard.kernel_sync_state", lambda: (False, 16000.0, 0.0))
    made = Rig(tmp_path)
    (made.state / "clock-mark").write_text(f"{SystemClock().now() + 7200:.3f}\n")
    made.service.start()
    try:
        assert "clock_fault" in made.service.controller.faults
        made.sim.person_arrives(NORMAL_SKIN_C)
        made.service.commands.open_once("operator-1", "cmd-3")
        record = made.wait_decision()
        assert record.verdict == "deny"
        assert "clock_fault" in record.reasons
    finally:
        made.service.stop()


def test_reload_config_refuses_an_invalid_file_and_restarts_on_a_valid_one(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    made = Rig(tmp_path)
    path = tmp_path / "gate.toml"
    made.service.commands._config_path = str(path)
    path.write_text('[gate]\nsite = "t"\n')
    made.service.commands.reload_config()
    assert not made.service.wait(0.01)
    gate_config.file(path, root=made.root)
    made.service.commands.reload_config()
    assert made.service.wait(0.01)
    assert made.service.stop() == EXIT_RESTART


def test_telemetry_metrics_match_the_published_schema(rig: Rig) -> None:
    metrics = rig.service.metrics()
    metrics.update(outbox_depth=0, outbox_oldest_age_s=None, outbox_dropped=0, uptime_s=1.0)
    document = telemetry_document(1_795_000_000_000, metrics)
    jsonschema.validate(document, load_schema("telemetry"))
    assert document["thermometer"] in ("idle", "ok", "fault")
    assert document["state"] == "idle"


def test_open_once_while_busy_is_refused_with_an_event(rig: Rig) -> None:
    rig.service.commands.open_once(
        "operator-1", "cmd-busy-1"
    )  # nobody in front: waits for a temperature
    assert wait_until(lambda: rig.service.controller.status().state.name != "IDLE", 5)
    rig.service.commands.open_once("operator-2", "cmd-busy-2")
    events = [json.loads(entry.payload) for entry in rig.service.outbox.pending()]
    refused = [e for e in events if e["reasons"] == ["gate_busy"]]
    assert len(refused) == 1
    assert refused[0]["operator"] == "operator-2" and refused[0]["decision"] == "deny"
    assert "cmd-busy-2" in refused[0]["detail"]
    jsonschema.validate(refused[0], load_schema("event"))
