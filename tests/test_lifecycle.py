"""Start in order, stop in reverse: every stop runs, a failing one is logged, nothing leaks."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.app.config import parse_config
from edge.app.gate import GateService
from edge.clock import SystemClock
from edge.errors import GateEdgeError
from edge.service.lifecycle import Lifecycle
from edge.sim.credentials import SimCredentials
from edge.sim.rig import SimGate
from tests.gate_support import GateConfig


def test_stops_run_newest_first_and_a_failing_stop_never_skips_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stopped: list[str] = []
    lifecycle = Lifecycle()

    def broken() -> None:
        stopped.append("b")
        raise RuntimeError("stuck")

    lifecycle.started("a", lambda: stopped.append("a"))
    lifecycle.started("b", broken)
    lifecycle.started("c", lambda: stopped.append("c"))
    with caplog.at_level(logging.ERROR):
        assert lifecycle.stop_all() == ("b",)
    assert stopped == ["c", "b", "a"]
    assert "stopping b failed" in caplog.text
    assert lifecycle.stop_all() == ()  # everything stopped once
    assert stopped == ["c", "b", "a"]


def _gate(gate_config: GateConfig, **mqtt: object) -> tuple[SimGate, dict[str, object]]:
    creds = SimCredentials.generate()
    root = creds.write(gate_config.directory / "state", SystemClock().now())
    raw: dict[str, object] = gate_config(root=root, mqtt=dict(mqtt))
    return SimGate(SystemClock()), raw


def _open_files(directory: Path) -> list[str]:
    found: list[str] = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


def test_the_service_stops_what_it_started_in_reverse_order(
    tmp_path: Path, gate_config: GateConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[str] = []
    record = Lifecycle.started

    def traced(lifecycle: Lifecycle, name: str, stop: Callable[[], object]) -> None:
        def stop_and_note() -> object:
            stopped.append(name)
            return stop()

        record(lifecycle, name, stop_and_note)

    monkeypatch.setattr(Lifecycle, "started", traced)
    sim, raw = _gate(gate_config)
    service = GateService(parse_config(raw), sim.hardware)
    service.start()
    assert service.stop() == 0
    assert stopped == [
        "watchdog",
        "supervisor",
        "worker supervision",
        "manual button",
        "scan",
        "gate controller",
        "relay",
        "outbox",
        "decisions log",
        "anti-passback ledger",
    ]
    assert _open_files(tmp_path / "state") == []


def test_a_failing_stop_still_releases_the_relay_and_closes_the_stores(
    tmp_path: Path, gate_config: GateConfig, caplog: pytest.LogCaptureFixture
) -> None:
    sim, raw = _gate(gate_config)
    service = GateService(parse_config(raw), sim.hardware)
    stop_scan = service.scan.stop

    def stuck(timeout_s: float = 2.0) -> None:
        stop_scan(timeout_s)
        raise GateEdgeError("scan loop did not confirm its stop")

    service.scan.stop = stuck  # type: ignore[method-assign]
    service.start()
    with caplog.at_level(logging.ERROR):
        assert service.stop() == 0
    assert "stopping scan failed" in caplog.text
    assert not service.controller.worker_alive()
    assert _open_files(tmp_path / "state") == []


def test_a_service_that_cannot_be_built_leaves_no_store_open(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    sim, raw = _gate(
        gate_config,
        enabled=True,
        broker="mqtts://127.0.0.1:1",
        ca_file=str(tmp_path / "missing-ca.pem"),
    )
    with pytest.raises(GateEdgeError):
        GateService(parse_config(raw), sim.hardware)
    assert (tmp_path / "state" / "outbox.db").exists()  # it was opened before the failure
    assert _open_files(tmp_path / "state") == []
    sim.hardware.close()
