"""Chaos: 5,000 events while the broker restarts and the publishing process is SIGKILLed."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.broker import Broker, Subscriber
from tests.gate_support import GateConfig
from tests.waiting import wait_until

TOTAL = 5000
EVENTS = "gates/s1/g1/events"

# The gate process: emits test events (paced) until seq reaches TOTAL while publishing.
GATE_SCRIPT = """
import sys, time
from edge.clock import SystemClock
from edge.events import GateEvent
from edge.storage.outbox import Outbox
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings

state_dir, url, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
clock = SystemClock()
outbox = Outbox(state_dir + "/outbox.db", site="s1", gate="g1", clock=clock)
settings = MqttSettings(broker=url, reconnect_min_s=0.1, reconnect_max_s=0.3)
publisher = EventPublisher(settings, site="s1", gate="g1", outbox=outbox, clock=clock)
publisher.start()
while outbox.last_seq() < total:
    outbox.emit(GateEvent(kind="test", detail="chaos"))
    if outbox.last_seq() % 10 == 0:
        time.sleep(0.01)
publisher.wait_drained(120)
publisher.stop()
"""


def _stored_seq(state_dir: Path) -> int:
    try:
        with sqlite3.connect(state_dir / "outbox.db", timeout=5) as db:
            row = db.execute("SELECT value FROM counters WHERE name = 'seq:s1/g1'").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


@pytest.mark.slow
def test_no_event_is_lost_through_broker_restarts_and_sigkill(
    tmp_path: Path, gate_config: GateConfig
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    script = tmp_path / "gate.py"
    script.write_text(GATE_SCRIPT)
    broker = Broker(tmp_path / "broker")
    broker.start()
    central = Subscriber(broker, EVENTS, client_id="central-consumer")

    def received() -> dict[int, set[str]]:
        by_seq: dict[int, set[str]] = {}
        for _, payload, _ in list(central.messages):
            doc = json.loads(payload)
            by_seq.setdefault(doc["seq"], set()).add(doc["event_id"])
        return by_seq

    def gate() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, str(script), str(state), broker.url, str(TOTAL)],
            cwd=Path(__file__).resolve().parent.parent,
        )

    try:
        first = gate()  # online, killed mid-stream
        assert wait_until(lambda: len(central.messages) >= 800, 30)
        first.send_signal(signal.SIGKILL)
        first.wait()

        broker.stop()  # broker down: the next process only stores
        second = gate()
        assert wait_until(lambda: _stored_seq(state) >= 2200, 30)
        second.send_signal(signal.SIGKILL)
        second.wait()

        broker.start()
        third = gate()  # replays the backlog, emits more, killed again
        assert wait_until(lambda: _stored_seq(state) >= 3500, 30)
        broker.restart()  # broker restarts under it
        assert wait_until(lambda: _stored_seq(state) >= 4000, 30)
        third.send_signal(signal.SIGKILL)
        third.wait()

        fourth = gate()  # finishes emitting and drains
        assert fourth.wait(timeout=60) == 0
        assert wait_until(lambda: set(received()) >= set(range(1, TOTAL + 1)), 30)

        # What central saw: every seq 1..TOTAL, each seq always with the same event id.
        by_seq = received()
        assert set(by_seq) == set(range(1, TOTAL + 1))
        assert all(len(ids) == 1 for ids in by_seq.values())
        assert len({next(iter(ids)) for ids in by_seq.values()}) == TOTAL
        assert _stored_seq(state) == TOTAL

        # And the CLI agrees nothing is pending.
        config = gate_config.file(
            state=state, site="s1", gate="g1", mqtt={"enabled": True, "broker": broker.url}
        )
        out = subprocess.run(
            [sys.executable, "-m", "edge", "events", "pending", "--config", str(config)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert "pending: 0" in out.stdout
    finally:
        central.close()
        broker.stop()
