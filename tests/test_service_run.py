"""`gate-edge run` as systemd runs it: READY and watchdog pings, events out, clean SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import pytest

from edge.clock import SystemClock
from edge.sim.credentials import SimCredentials
from edge.sim.rig import render_code_frames
from edge.storage.decision_log import DECISIONS_FILE, read_decisions
from tests.broker import Broker, Subscriber
from tests.gate_support import GateConfig

pytestmark = pytest.mark.slow


def _config(gate_config: GateConfig, root: Path, frames: Path, broker_url: str) -> Path:
    return gate_config.file(
        root=root,
        site="it",
        gate="g7",
        camera={"source": "replay", "replay_path": str(frames), "replay_fps": 10.0},
        mqtt={"enabled": True, "broker": broker_url},
    )


class _NotifyListener:
    """Plays systemd's part: reads every notification datagram as it arrives."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def close(self) -> list[str]:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        return self.messages


def test_run_notifies_systemd_publishes_and_stops_on_sigterm(
    tmp_path: Path, mqtt_broker: Broker, gate_config: GateConfig
) -> None:
    creds = SimCredentials.generate()
    now = SystemClock().now()
    state = tmp_path / "state"
    root = creds.write(state, now)
    frames = tmp_path / "frames"
    frames.mkdir()
    for i, frame in enumerate(render_code_frames(creds.issue("green", now), seed=3, count=3)):
        cv2.imwrite(str(frames / f"{i:03d}.png"), frame)
    config = _config(gate_config, root, frames, mqtt_broker.url)

    notify_path = tmp_path / "notify.sock"
    listener = _NotifyListener(notify_path)
    central = Subscriber(mqtt_broker, "gates/it/g7/#", client_id="central-run")
    env = dict(os.environ, NOTIFY_SOCKET=str(notify_path), WATCHDOG_USEC="1000000")
    env.pop("JOURNAL_STREAM", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # The fake thermometer sees nobody, so the genuine green code is denied for want of
        # a temperature: proof that the code was read, verified and decided on.
        assert central.wait_for(
            lambda msgs: any(
                t.endswith("/events") and json.loads(p).get("kind") == "decision"
                for t, p, _ in msgs
            ),
            timeout=30,
        ), "no decision event arrived"
        time.sleep(1.2)  # at least two watchdog periods
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        central.close()
    output = proc.stdout.read().decode() if proc.stdout else ""
    messages = listener.close()
    assert code == 0, output
    assert "configuration: thermo.backend: fake" in output  # simulated parts are announced
    logged = read_decisions(state / DECISIONS_FILE, 5)  # the decision outlives the process
    assert [(d["verdict"], d["reasons"]) for d in logged][:1] == [
        ("deny", ["temperature_unavailable"])
    ]
    assert any("READY=1" in m for m in messages)
    assert sum("WATCHDOG=1" in m for m in messages) >= 2
    assert any("STOPPING=1" in m for m in messages)
    events = [json.loads(p) for t, p, _ in central.messages if t.endswith("/events")]
    decision = next(e for e in events if e["kind"] == "decision")
    assert decision["decision"] == "deny"
    assert decision["reasons"] == ["temperature_unavailable"]
    assert decision["issuer"] == "CN-150000"
    statuses = [json.loads(p) for t, p, _ in central.messages if t.endswith("/status")]
    assert statuses and statuses[0]["state"] == "online"


def test_run_refuses_invalid_config_before_touching_hardware(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[gate]\nsite = "x"\n[relay]\nbackend = "gpio"\npulse_ms = 5\n')
    result = subprocess.run(
        [sys.executable, "-m", "edge", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "gate.gate: required key is missing" in result.stderr
    assert "relay.backend: 'gpio' is not one of" in result.stderr
    assert "relay.pulse_ms: 5 is below the minimum 100" in result.stderr
