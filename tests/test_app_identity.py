"""Person-code match through the service: the document reader is a real serial reader on a pty."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.app.config import parse_config
from edge.app.gate import GateService
from edge.clock import SystemClock
from edge.core.records import DecisionRecord, GateState
from edge.drivers.serial_lines import open_line_reader
from edge.sim.credentials import SimCredentials
from edge.sim.rig import SimGate, render_code_frames
from edge.sim.scenario import NORMAL_SKIN_C
from tests.gate_support import gate_settings
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


class IdentityGate:
    def __init__(self, tmp: Path) -> None:
        self.creds = SimCredentials.generate()
        state = tmp / "state"
        root = self.creds.write(state, SystemClock().now())
        self.master, slave = os.openpty()
        config = parse_config(
            gate_settings(
                state,
                root,
                site="s",
                policy={"person_code_match": "always", "identity_timeout_s": 3.0},
                document_reader={"enabled": True, "port": os.ttyname(slave)},
            )
        )
        self.sim = SimGate(SystemClock())
        self.sim.turnstile.walk_delay_s = 0.01
        self.sim.hardware.document_reader = open_line_reader(os.ttyname(slave), 9600, "cr")
        os.close(slave)
        self.records: list[DecisionRecord] = []
        self.decided = threading.Event()
        self.service = GateService(config, self.sim.hardware, on_decision=self._on_decision)

    def _on_decision(self, record: DecisionRecord) -> None:
        if record.outcome is None:
            self.records.append(record)
            self.decided.set()

    def present(self, text: str, document: bytes | None, seed: int) -> DecisionRecord:
        self.decided.clear()
        first = len(self.records)
        self.sim.person_arrives(NORMAL_SKIN_C)
        time.sleep(0.2)
        self.sim.camera.show(render_code_frames(text, seed, count=3))
        asked = wait_until(lambda: self.service.controller.status().state == GateState.IDENTITY, 10)
        assert asked, f"no document request: {self.records}"
        if document is not None:
            os.write(self.master, document + b"\r")
        assert self.decided.wait(10)
        # The phone goes away: a slow presentation must not see the same code read again.
        self.sim.camera.show_nothing()
        self.service.controller.wait_idle(5)
        self.sim.person_leaves()
        time.sleep(0.1)
        return self.records[first]


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[IdentityGate]:
    made = IdentityGate(tmp_path)
    made.service.start()
    yield made
    made.service.stop()
    os.close(made.master)


def test_matching_document_passes_mismatch_and_absence_are_denied(gate: IdentityGate) -> None:
    now = SystemClock().now()
    ok = gate.present(gate.creds.issue("green", now, document="E12345678"), b"E12345678", 1)
    assert (ok.verdict, ok.identity) == ("pass", "matched")
    wrong = gate.present(gate.creds.issue("green", now, document="E22222222"), b"E99999999", 2)
    assert (wrong.verdict, wrong.reasons) == ("deny", ("identity_mismatch",))
    missing = gate.present(gate.creds.issue("green", now, document="E33333333"), None, 3)
    assert (missing.verdict, missing.reasons) == ("deny", ("identity_missing",))


def test_same_person_with_a_second_code_is_refused_by_anti_passback(gate: IdentityGate) -> None:
    now = SystemClock().now()
    first = gate.present(gate.creds.issue("green", now, document="G7654321"), b"G7654321", 4)
    assert first.verdict == "pass", first.reasons
    second = gate.creds.issue("green", now, document="G7654321")  # a fresh code, same person
    gate.decided.clear()
    gate.sim.camera.show(render_code_frames(second, 5, count=3))
    assert gate.decided.wait(10)
    assert (gate.records[-1].verdict, gate.records[-1].reasons) == ("deny", ("already_used",))
