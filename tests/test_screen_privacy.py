"""The screen follows a real controller; the masked name reaches the screen and nothing else."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from edge.core.records import GateState
from edge.faults import Fault
from edge.screen.feed import ScreenFeed
from edge.screen.service import VisitorScreen
from edge.screen.settings import ScreenSettings, VoiceSettings
from edge.screen.view import Moment, phase_of
from tests.test_controller import Rig, green
from tests.test_screen_feed import CATALOGUES


def test_the_name_is_on_the_screen_for_its_moment_and_nowhere_else(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rig = Rig()
    feed = ScreenFeed(CATALOGUES, rig.clock, hold_s=60.0)
    phases: list[str] = []
    feed.watch(lambda moment: phases.append(phase_of(moment)))
    rig.controller.watch_state(feed.on_state)
    rig.controller.add_listener(feed.on_decision)
    rig.controller.watch_faults(feed.on_faults)

    assert rig.scan(replace(green(), masked_name="张三"))

    changes = [phase for i, phase in enumerate(phases) if i == 0 or phases[i - 1] != phase]
    assert changes[:4] == ["reading", "measuring", "reading", "decision"]
    _, shown = feed.current()
    assert shown["name"] == "张*" and shown["verdict"] == "pass"
    rig.clock.advance(60.0)
    assert feed.current()[1]["name"] is None
    for event in rig.sink.events:
        assert "张" not in json.dumps(asdict(event), ensure_ascii=False, default=str)
    assert "张" not in caplog.text


def test_a_gate_fault_turns_the_idle_screen_out_of_service() -> None:
    rig = Rig()
    feed = ScreenFeed(CATALOGUES, rig.clock, hold_s=5.0)
    rig.controller.watch_faults(feed.on_faults)
    rig.controller.report_fault(Fault.STORAGE_FAULT, "disk full")
    assert feed.current()[1]["phase"] == "out_of_service"
    rig.controller.clear_fault(Fault.STORAGE_FAULT)
    assert feed.current()[1]["phase"] == "idle"
    assert phase_of(Moment(GateState.IDLE, None, ("audio_fault",))) == "idle"


def test_a_screen_that_cannot_listen_is_a_screen_fault_and_the_gate_runs_on(
    tmp_path: Path,
) -> None:
    rig = Rig()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        screen = VisitorScreen(
            ScreenSettings(enabled=True, listen=f"127.0.0.1:{port}"),
            VoiceSettings(),
            rig.clock,
            tmp_path,
        )
        screen.attach(rig.controller)
        screen.start()
    assert "screen_fault" in rig.controller.faults and screen.url is None
    assert rig.scan(green())  # blocks nothing
    assert rig.decisions() == [("pass", ())]
    screen.stop()
