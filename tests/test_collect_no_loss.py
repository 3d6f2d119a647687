"""Two collectors share 5,000 events over a real mosquitto into SQLite and a real PostgreSQL,
while one collector is SIGKILLed and restarted, or the database goes away midway: every event
is stored exactly once."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from central.collect.store import open_store
from tests.broker import Broker
from tests.fleet_support import CollectorProcess, gate_traffic, new_postgres_database, publish_all
from tests.postgres import PostgresServer
from tests.waiting import wait_until

EVENTS = 5000
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def fleet_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fleet.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield new_postgres_database(server.url, f"fleet_{uuid.uuid4().hex[:12]}")


def _stored(db: str) -> int:
    store = open_store(db)
    try:
        return store.count()["events"]
    finally:
        store.close()


def _stored_or_down(db: str) -> int:
    try:
        return _stored(db)
    except Exception:  # the database may be down on purpose
        return -1


def _wait_stored(db: str, at_least: int, timeout_s: float = 60.0) -> int:
    wait_until(lambda: _stored_or_down(db) >= at_least, timeout_s)
    return _stored_or_down(db)


def _run(db: str, tmp_path: Path, disturb: Callable[[list[CollectorProcess]], None]) -> None:
    with Broker(tmp_path / "broker") as broker:
        log = tmp_path / "collectors.log"
        collectors = [
            CollectorProcess(broker.url, db, f"collector-{n}", log, "--batch-max", "200")
            for n in (1, 2)
        ]
        traffic = gate_traffic(EVENTS)
        first = EVENTS // 4
        try:
            publish_all(broker.port, traffic[:first])
            assert _wait_stored(db, first) == first
            publisher = threading.Thread(target=publish_all, args=(broker.port, traffic[first:]))
            publisher.start()
            disturb(collectors)
            publisher.join(60)
            assert _wait_stored(db, EVENTS) == EVENTS, log.read_text()[-3000:]
        finally:
            for collector in collectors:
                collector.stop()
        assert _stored(db) == EVENTS
        store = open_store(db)
        try:
            assert store.gaps() == []
        finally:
            store.close()


def test_a_killed_collector_loses_nothing(fleet_db: str, tmp_path: Path) -> None:
    def kill_and_restart(collectors: list[CollectorProcess]) -> None:
        victim = collectors[0]
        victim.kill()
        assert _stored(fleet_db) < EVENTS  # killed midway
        _wait_stored(fleet_db, EVENTS // 2, timeout_s=5)
        collectors[0] = CollectorProcess(
            victim_url(victim), fleet_db, "collector-1", tmp_path / "collectors.log"
        )

    def victim_url(victim: CollectorProcess) -> str:
        args = victim.process.args
        assert isinstance(args, list)
        return str(args[args.index("--broker") + 1])

    _run(fleet_db, tmp_path, kill_and_restart)


def test_a_database_outage_loses_nothing(
    fleet_db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    log = tmp_path / "collectors.log"

    def felt() -> bool:
        """A batch failed and waits to be retried, or waits for a new connection."""
        text = log.read_text()
        return "not stored, retry" in text or "error connecting" in text

    def database_away(collectors: list[CollectorProcess]) -> None:
        if fleet_db.startswith("sqlite:///"):
            # Another writer holds the file locked: every commit fails until it lets go.
            holder = sqlite3.connect(fleet_db[len("sqlite:///") :], isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
            assert wait_until(felt, 30.0)
            holder.execute("ROLLBACK")
            holder.close()
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")
            server.stop()
            assert wait_until(felt, 30.0)
            server.start()

    _run(fleet_db, tmp_path, database_away)
