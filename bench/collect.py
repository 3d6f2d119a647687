"""Benchmark: events/s the collectors store, beside a plain subscription that stores nothing.

Usage: python bench/collect.py [--quick] [--count N]
Starts its own mosquitto and PostgreSQL (initdb into a temp dir, fsync on) on free loopback
ports. Each run lets its subscribers make their persistent sessions, queues N events (20 gates)
at the broker while they are away, then starts them and times the backlog from the first message
received or stored to the last: "plain" is one paho subscriber at QoS 1 with automatic
acknowledgement that stores nothing; the others are `gate-central collect` processes in one
shared-subscription group, storing in batches and acknowledging after each commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The repository on the path, for the test harness it drives (tests.fleet_support).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import tempfile
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from central.collect.store import open_store
from edge.sim.broker import LocalBroker
from tests.fleet_support import CollectorProcess, gate_traffic, new_postgres_database, publish_all
from tests.postgres import PostgresServer, postgres_bin


def _connect(port: int, client_id: str, on_message: Any) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 4000
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    client.loop_start()
    return client


def plain(broker: LocalBroker, count: int) -> float:
    """Events/s one plain QoS 1 subscriber receives from a backlog (nothing stored)."""
    received: list[float] = []
    done, subscribed = threading.Event(), threading.Event()

    def on_message(*_: object) -> None:
        received.append(time.perf_counter())
        if len(received) == count:
            done.set()

    client = _connect(broker.port, "bench-plain", on_message)
    client.on_subscribe = lambda *_: subscribed.set()
    client.subscribe("gates/+/+/events", qos=1)
    subscribed.wait(10)
    client.disconnect()
    client.loop_stop()
    publish_all(broker.port, gate_traffic(count))  # queued in the away session
    client = _connect(broker.port, "bench-plain", on_message)
    done.wait(300)
    client.disconnect()
    client.loop_stop()
    return count / (received[-1] - received[0])


def collected(
    broker: LocalBroker, db: str, collectors: int, count: int, work: Path
) -> tuple[float, float]:
    """Events/s `collectors` collectors in one group store into `db` from a backlog, and the
    mean number of events per committed batch."""
    group = f"bench-{uuid.uuid4().hex[:6]}"
    ids = [f"{group}-{n}" for n in range(collectors)]
    log = work / f"{group}.log"
    for process in [CollectorProcess(broker.url, db, i, log, "--group", group) for i in ids]:
        process.stop()  # the sessions stay, with their shared subscriptions
    publish_all(broker.port, gate_traffic(count))  # shared out to the away sessions
    running = [
        CollectorProcess(broker.url, db, i, log, "--group", group, "--batch-max", "500", wait=False)
        for i in ids
    ]
    store = open_store(db)
    try:
        for process in running:
            process.wait_ready()
        deadline = time.monotonic() + 300
        while store.count()["events"] < count and time.monotonic() < deadline:
            time.sleep(0.05)
        first, last, stored, batches = store.query(
            "SELECT MIN(received), MAX(received), COUNT(*), COUNT(DISTINCT received) FROM events"
        )[0]
    finally:
        store.close()
        for process in running:
            process.stop()
    if stored != count:
        raise SystemExit(f"stored {stored} of {count}: see {log}")
    # (last - first) misses the first batch's own time: add the mean time of one batch.
    seconds = (int(last) - int(first)) / 1000
    return count / (seconds + seconds / max(int(batches) - 1, 1)), count / int(batches)


def main() -> int:
    """Store a queued backlog through SQLite and PostgreSQL collectors and print events/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="5,000 events")
    args = parser.parse_args()
    count = 5_000 if args.quick else args.count
    bin_dir = postgres_bin()
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        work = Path(tmp)
        with LocalBroker(work / "broker") as broker:
            rows: list[tuple[str, float, float | None]] = [
                ("plain subscription, nothing stored", plain(broker, count), None)
            ]
            for n in (1, 2):
                db = f"sqlite:///{work / f'fleet-{n}.db'}"
                rows.append((f"{n} collector(s), SQLite", *collected(broker, db, n, count, work)))
            if bin_dir is None:
                print("PostgreSQL not installed: its rows are skipped", file=sys.stderr)
            else:
                server = PostgresServer(bin_dir, fsync=True)
                server.start()
                try:
                    for n in (1, 2):
                        db = new_postgres_database(server.url, f"bench_{n}")
                        label = f"{n} collector(s), PostgreSQL"
                        rows.append((label, *collected(broker, db, n, count, work)))
                finally:
                    server.remove()
    print(f"collect: a backlog of {count} events per run, first to last received or stored")
    for label, rate, batch in rows:
        note = "" if batch is None else f"  ({batch:,.0f} events per commit)"
        print(f"  {label:<38} {rate:>9,.0f} events/s{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
