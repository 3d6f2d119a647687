"""The durable anti-passback ledger: entries survive a restart and a wall-clock step back."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edge.clock import FakeClock, SystemClock
from edge.core.controller import GateController
from edge.core.decision import DecisionInput, ScanPresentation, decide
from edge.core.records import DecisionRecord
from edge.core.settings import PolicySettings
from edge.core.steps import GateDevices
from edge.credentials.result import VerificationResult
from edge.errors import StorageError
from edge.sim.rig import SimGate
from edge.sim.scenario import NORMAL_SKIN_C
from edge.storage.passback_db import DurablePassbackLedger
from tests.test_app import Rig
from tests.test_controller import FakeInput, FakeRelay, FakeSink, FakeThermometer


def test_a_pass_survives_a_restart_within_its_window(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "passback.db"
    ledger = DurablePassbackLedger(db, 300.0, clock)
    ledger.record(b"code-1", b"subject-1", clock.monotonic())
    ledger.close()

    clock.advance(120.0)
    reopened = DurablePassbackLedger(db, 300.0, clock)
    last = reopened.last_pass(b"code-1", None)
    assert last is not None and last == pytest.approx(clock.monotonic() - 120.0)
    assert reopened.last_pass(None, b"subject-1") == last
    assert reopened.last_pass(b"code-2", b"subject-2") is None


def test_entries_older_than_the_window_are_not_restored(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "passback.db"
    ledger = DurablePassbackLedger(db, 60.0, clock)
    ledger.record(b"old", None, clock.monotonic())
    clock.advance(61.0)
    ledger.record(b"new", None, clock.monotonic())
    ledger.close()
    reopened = DurablePassbackLedger(db, 60.0, clock)
    assert reopened.last_pass(b"old", None) is None
    assert reopened.last_pass(b"new", None) == clock.monotonic()
    rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM passes").fetchone()
    assert rows == (1,)  # the old row was deleted when the new one was written


def test_a_wall_clock_stepped_back_can_only_lengthen_a_window(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "passback.db"
    ledger = DurablePassbackLedger(db, 300.0, clock)
    ledger.record(b"code", None, clock.monotonic())
    ledger.close()
    clock.set_wall(clock.now() - 3600)  # after the restart the clock reads an hour earlier
    reopened = DurablePassbackLedger(db, 300.0, clock)
    assert reopened.last_pass(b"code", None) == clock.monotonic()  # counts as just passed


def test_the_file_stays_bounded(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "passback.db"
    ledger = DurablePassbackLedger(db, 3600.0, clock, max_entries=10)
    for n in range(30):
        clock.advance(1.0)
        ledger.record(f"code-{n}".encode(), None, clock.monotonic())
    assert len(ledger) == 10
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM passes").fetchone() == (10,)
    assert ledger.last_pass(b"code-29", None) is not None
    assert ledger.last_pass(b"code-0", None) is None


def test_a_failed_write_keeps_the_entry_in_memory_and_says_so(tmp_path: Path) -> None:
    clock = FakeClock()
    ledger = DurablePassbackLedger(tmp_path / "passback.db", 300.0, clock)
    ledger.close()
    with pytest.raises(StorageError, match="anti-passback store"):
        ledger.record(b"code", None, clock.monotonic())
    assert ledger.last_pass(b"code", None) == clock.monotonic()


def test_an_unreadable_store_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "passback.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="anti-passback store"):
        DurablePassbackLedger(tmp_path / "passback.db", 300.0, FakeClock())


def test_the_gate_refuses_a_reused_code_after_a_restart(tmp_path: Path) -> None:
    made = Rig(tmp_path, anti_passback_s=300.0)
    text = made.creds.issue("green", SystemClock().now(), ttl_s=300)
    made.service.start()
    try:
        made.sim.person_arrives(NORMAL_SKIN_C)
        _present(made, text)
        assert made.wait_decision().verdict == "pass"
        assert made.service.controller.wait_idle(10.0)
    finally:
        made.service.stop()

    # Power back on: a new service on the same state directory and fresh hardware.
    sim = SimGate(SystemClock())
    records: list[DecisionRecord] = []
    made.sim, made.records = sim, records
    made.service = type(made.service)(made.config, sim.hardware, on_decision=made._record)
    made.service.start()
    try:
        sim.person_arrives(NORMAL_SKIN_C)
        _present(made, text)
        record = made.wait_decision()
        assert (record.verdict, record.reasons) == ("deny", ("already_used",))
        assert sim.turnstile.pulses == []
    finally:
        made.service.stop()


def _present(rig: Rig, text: str) -> None:
    service = rig.service
    verification = service.verifier.verify(text)
    assert verification.valid, verification.reason
    service.controller.handle_scan("camera", verification, 1.0, service.clock.monotonic())


def passed_code() -> VerificationResult:
    """The verified code the crash test presents in both processes."""
    return VerificationResult(
        valid=True,
        colour="green",
        issuer="CN-GD",
        code_id=bytes(range(16)),
        expires_at=2_000_000_000,
        subject_binding=bytes(32),
    )


def test_a_gate_killed_between_pulse_and_passage_refuses_the_code_after_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "passback.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_after_pulse", str(db)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "pulsed"
    finally:
        child.kill()
        child.wait(10.0)

    clock = SystemClock()
    ledger = DurablePassbackLedger(db, 300.0, clock)
    try:
        request = DecisionInput(ScanPresentation(passed_code(), "camera"), None)
        decision = decide(request, PolicySettings(), ledger, clock.monotonic())
        assert decision.reasons == ("already_used",)
    finally:
        ledger.close()


def test_a_turnstile_that_did_not_turn_drops_the_entry_on_disk(tmp_path: Path) -> None:
    made = Rig(tmp_path, anti_passback_s=300.0, passage_timeout_s=1.0)
    text = made.creds.issue("green", SystemClock().now(), ttl_s=300)
    made.sim.turnstile.walk_through = False
    made.service.start()
    try:
        made.sim.person_arrives(NORMAL_SKIN_C)
        _present(made, text)
        assert made.wait_decision().verdict == "pass"
        assert made.service.controller.wait_idle(10.0)
        code = made.service.verifier.verify(text)
    finally:
        made.service.stop()
    assert len(made.sim.turnstile.pulses) == 1
    reopened = DurablePassbackLedger(made.state / "passback.db", 300.0, SystemClock())
    assert reopened.last_pass(code.code_key, code.subject_binding) is None


def test_a_pass_that_cannot_be_saved_keeps_the_gate_shut(tmp_path: Path) -> None:
    clock = FakeClock()
    ledger = DurablePassbackLedger(tmp_path / "passback.db", 300.0, clock)
    ledger.close()  # every write now fails
    relay, sink = FakeRelay(clock), FakeSink()
    controller = GateController(
        policy=PolicySettings(),
        devices=GateDevices(
            relay=relay, thermometer=FakeThermometer(clock), passage_input=FakeInput(clock)
        ),
        events=sink,
        clock=clock,
        ledger=ledger,
    )
    code = passed_code()
    assert controller.handle_scan("camera", code, 1.0, clock.monotonic())
    assert relay.pulses == []
    passages = sink.of("passage")
    assert [(e.outcome, e.detail) for e in passages] == [("granted_not_passed", "storage_fault")]
    assert ledger.last_pass(code.code_key, code.subject_binding) is None
