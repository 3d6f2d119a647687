"""Benchmark: durable events/s (SQLite outbox + QoS 1 until PUBACK) beside plain paho QoS 1.

Usage: python bench/mqtt.py [--quick] [--count N]
Starts its own mosquitto on a free loopback port. "durable" = every event committed to the
outbox (WAL, synchronous=FULL) before it is published, deleted after its PUBACK, one emit() per
event as the gate controller does; "durable, 4 emitters" shows group commit; "plain paho" =
the same payloads published at QoS 1 straight from RAM until every PUBACK arrived.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from edge.clock import SystemClock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.events import GateEvent, TemperatureFacts
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.sim.broker import LocalBroker
from edge.storage.outbox import Outbox

EVENT = GateEvent(
    kind="decision",
    decision="pass",
    reasons=(),
    method="camera",
    issuer="CN-HEALTH",
    colour="green",
    code_id_hash="ab" * 16,
    temperature=TemperatureFacts("ok", 36.4, 22.0, 36.7, "wrist-v1", 5),
    timings_ms={"decode": 12.5, "verify": 1.0, "temperature": 180.0},
)


def durable(broker: LocalBroker, directory: Path, count: int, emitters: int) -> float:
    """Durable events per second through the outbox from `emitters` threads."""
    outbox = Outbox(
        directory / f"outbox-{emitters}.db", site="bench", gate=f"g{emitters}", clock=SystemClock()
    )
    settings = MqttSettings(broker=broker.url, client_id=f"bench-durable-{emitters}")
    publisher = EventPublisher(
        settings, site="bench", gate=f"g{emitters}", outbox=outbox, clock=SystemClock()
    )
    publisher.start()
    deadline = time.monotonic() + 10
    while not publisher.connected and time.monotonic() < deadline:
        time.sleep(0.01)

    def emit(n: int) -> None:
        for _ in range(n):
            outbox.emit(EVENT)

    start = time.perf_counter()
    threads = [threading.Thread(target=emit, args=(count // emitters,)) for _ in range(emitters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not publisher.wait_drained(120):
        raise SystemExit("durable run did not drain")
    elapsed = time.perf_counter() - start
    publisher.stop()
    outbox.close()
    return (count // emitters) * emitters / elapsed


def plain(broker: LocalBroker, count: int, payload: bytes) -> float:
    """Events per second published at QoS 1 straight from RAM until every PUBACK arrived."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-plain", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    done = threading.Event()
    acked = 0

    def on_publish(c: mqtt.Client, u: object, mid: int, rc: ReasonCode, p: object) -> None:
        nonlocal acked
        acked += 1
        if acked == count:
            done.set()

    client.on_publish = on_publish
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    start = time.perf_counter()
    for _ in range(count):
        client.publish("gates/bench/plain/events", payload, qos=1)
    if not done.wait(120):
        raise SystemExit("plain run did not finish")
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return count / elapsed


def main() -> None:
    """Start a local mosquitto, run the durable and plain benches and print events per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (200 events)")
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    count = 200 if args.quick else args.count
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with LocalBroker() as broker:
            probe = Outbox(directory / "probe.db", site="bench", gate="probe", clock=SystemClock())
            probe.emit(EVENT)
            payload = probe.pending()[0].payload
            probe.close()
            baseline = plain(broker, count, payload)
            one = durable(broker, directory, count, 1)
            four = durable(broker, directory, count, 4)
    print(f"events: {count}, payload {len(payload)} bytes, QoS 1, local mosquitto")
    print(f"plain paho (RAM only)     : {baseline:9.0f} events/s")
    print(f"durable, 1 emitter        : {one:9.0f} events/s  ratio {one / baseline:.2f}")
    print(f"durable, 4 emitters       : {four:9.0f} events/s  ratio {four / baseline:.2f}")
    print(f"target >= 1000 durable events/s: {'met' if one >= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main()
