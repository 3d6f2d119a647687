"""Gate traffic for the collector's tests and benchmark: event payloads, a fast publisher,
collectors as real processes, a fresh database per test."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.events import GateEvent, TemperatureFacts, Verdict
from edge.wire.documents import EventStamp, encode, event_document

ROOT = Path(__file__).resolve().parent.parent
SITE = "station-east"


def event_payload(
    site: str, gate: str, seq: int, *, decision: Verdict = "pass", ts_ms: int | None = None,
    test: bool = False,
) -> bytes:  # fmt: skip
    """A real event document as the gate's outbox stamps it."""
    event = GateEvent(
        kind="test" if test else "decision",
        decision=None if test else decision,
        reasons=() if decision == "pass" else ("colour_red",),
        method=None if test else "camera",
        issuer=None if test else "CN-150000",
        colour=None if test else ("green" if decision == "pass" else "red"),
        temperature=None
        if test
        else TemperatureFacts("normal", 36.4, 24.0, 36.6, "skin-offset", 3),
        timings_ms={"decode": 12.5, "verify": 1.2},
    )
    ts = int(time.time() * 1000) if ts_ms is None else ts_ms
    document = event_document(event, EventStamp(str(uuid.uuid4()), site, gate, seq, ts))
    if test:
        document["test"] = True
    return encode(document)


def gate_traffic(events: int, gates: int = 20) -> list[tuple[str, bytes]]:
    """`events` events spread over `gates` gates, each gate numbering from 1."""
    messages = []
    for index in range(events):
        gate, seq = f"g{index % gates:02d}", index // gates + 1
        decision: Verdict = "deny" if index % 7 == 0 else "pass"
        topic = f"gates/{SITE}/{gate}/events"
        messages.append((topic, event_payload(SITE, gate, seq, decision=decision)))
    return messages


def publish_all(port: int, messages: Sequence[tuple[str, bytes]], *, retain: bool = False) -> None:
    """Publish at QoS 1 and return once the broker acknowledged every message."""
    done = threading.Event()
    acked = 0
    lock = threading.Lock()

    def on_publish(*_: object) -> None:
        nonlocal acked
        with lock:
            acked += 1
            if acked == len(messages):
                done.set()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"traffic-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )  # fmt: skip
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1, retain=retain)
        if messages and not done.wait(60):
            raise RuntimeError(f"the broker acknowledged {acked} of {len(messages)} messages")
    finally:
        client.disconnect()
        client.loop_stop()


class CollectorProcess:
    """`gate-central collect` in its own process, ready once it printed its first line."""

    def __init__(
        self, broker_url: str, db: str, client_id: str, log: Path, *extra: str, wait: bool = True
    ) -> None:
        self.log = log
        with log.open("ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "central", "collect", "--broker", broker_url, "--db", db,
                 "--client-id", client_id, *extra],
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Return once the collector has subscribed."""
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout_s):
                self.kill()
                raise RuntimeError(f"collector not ready: {self.log.read_text()[-2000:]}")
        line = self.process.stdout.readline().decode()
        if not line.startswith("collecting"):
            self.kill()
            raise RuntimeError(f"collector failed: {line} {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: nothing is flushed, nothing acknowledged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


def new_postgres_database(server_url: str, name: str) -> str:
    """A fresh, empty database on the server; its URL."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"
