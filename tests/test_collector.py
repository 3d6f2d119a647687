"""The collector in-process: over TLS, and a message it refuses is acknowledged, never re-sent."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from paho.mqtt import publish

from central.collect.collector import Collector, CollectorSettings, topic_filters
from central.collect.messages import Record
from central.collect.store import FleetStore, SqliteFleetStore, open_store
from central.errors import CentralError
from tests.broker import Broker
from tests.fleet_support import event_payload, gate_traffic
from tests.waiting import wait_until as _until


def _run(settings: CollectorSettings, store: FleetStore) -> Collector:
    ready = threading.Event()
    collector = Collector(settings, store, on_subscribed=ready.set)
    collector.start()
    assert ready.wait(10)
    return collector


def test_collecting_over_tls(tls_broker: Broker, tmp_path: Path) -> None:
    assert tls_broker.ca is not None
    store = open_store(f"sqlite:///{tmp_path / 'fleet.db'}")
    settings = CollectorSettings(
        broker=tls_broker.url, client_id="tls-collector", ca_file=str(tls_broker.ca.ca_file)
    )
    collector = _run(settings, store)
    try:
        publish.single(
            "gates/east/g1/events", event_payload("east", "g1", 1), qos=1, port=tls_broker.port,
            tls={"ca_certs": str(tls_broker.ca.ca_file)},
        )  # fmt: skip
        assert _until(lambda: store.count()["events"] == 1)
    finally:
        collector.stop()
        store.close()


def test_a_refused_message_is_acknowledged_and_not_sent_again(
    mqtt_broker: Broker, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'fleet.db'}")
    settings = CollectorSettings(broker=mqtt_broker.url, client_id="refusing")
    collector = _run(settings, store)
    publish.multiple(
        [("gates/east/g1/events", b"\xff not json", 1, False),
         ("gates/east/g1/events", event_payload("east", "g1", 1), 1, False)],
        port=mqtt_broker.port,
    )  # fmt: skip
    assert _until(lambda: store.count()["events"] == 1)
    collector.stop()
    assert (collector.stats.refused, collector.stats.stored) == (1, 1)
    again = _run(settings, store)  # the same session: nothing was left unacknowledged
    # A re-sent message would come before this one (one session delivers in order).
    publish.single("gates/east/g1/events", event_payload("east", "g1", 2), qos=1,
                   port=mqtt_broker.port)  # fmt: skip
    assert _until(lambda: store.count()["events"] == 2)
    again.stop()
    store.close()
    assert (again.stats.refused, again.stats.stored) == (0, 1)
    assert topic_filters("g")[0] == "$share/g/gates/+/+/events"


def test_a_retired_collector_stores_its_backlog_and_takes_no_more(
    mqtt_broker: Broker, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'fleet.db'}")
    staying = _run(CollectorSettings(broker=mqtt_broker.url, client_id="staying"), store)
    leaving_settings = CollectorSettings(broker=mqtt_broker.url, client_id="leaving")
    _run(leaving_settings, store).stop()  # away: the broker keeps its share for it
    traffic = gate_traffic(200)
    publish.multiple([(t, p, 1, False) for t, p in traffic[:100]], port=mqtt_broker.port)
    assert _until(lambda: store.count()["events"] >= 40)
    assert store.count()["events"] < 100  # part of it waits in the away session
    retiring = _run(replace(leaving_settings, retire=True), store)
    assert _until(lambda: store.count()["events"] == 100)
    retiring.stop()  # the session ends: no share goes to it any more
    publish.multiple([(t, p, 1, False) for t, p in traffic[100:]], port=mqtt_broker.port)
    assert _until(lambda: store.count()["events"] == 200)
    staying.stop()
    store.close()


class PickyStore(SqliteFleetStore):
    """A real store that refuses every batch holding a record of gate "poison"."""

    def write(self, records: Sequence[Record], received_ms: int) -> None:
        if any(record.gate == "poison" for record in records):
            raise CentralError("value too long for type character varying(8)")
        super().write(records, received_ms)


def test_a_record_the_database_refuses_does_not_hold_up_the_others(
    mqtt_broker: Broker, tmp_path: Path
) -> None:
    store = PickyStore(str(tmp_path / "fleet.db"))
    settings = CollectorSettings(broker=mqtt_broker.url, client_id="picky", batch_wait_s=0.2)
    collector = _run(settings, store)
    publish.multiple(
        [("gates/east/g1/events", event_payload("east", "g1", 1), 1, False),
         ("gates/east/poison/events", event_payload("east", "poison", 1), 1, False),
         ("gates/east/g1/events", event_payload("east", "g1", 2), 1, False)],
        port=mqtt_broker.port,
    )  # fmt: skip
    assert _until(lambda: collector.stats.refused == 1 and store.count()["events"] == 2)
    collector.stop()
    store.close()


class BrokenStore(SqliteFleetStore):
    """A store with a bug: every write raises something unforeseen."""

    def write(self, records: Sequence[Record], received_ms: int) -> None:
        raise RuntimeError("a bug")


def test_an_unforeseen_error_ends_the_collector_and_acknowledges_nothing(
    mqtt_broker: Broker, tmp_path: Path
) -> None:
    failed, ready = threading.Event(), threading.Event()
    broken = BrokenStore(str(tmp_path / "fleet.db"))
    settings = CollectorSettings(broker=mqtt_broker.url, client_id="unlucky")
    collector = Collector(settings, broken, on_subscribed=ready.set, on_failure=failed.set)
    collector.start()
    assert ready.wait(10)
    publish.single("gates/east/g1/events", event_payload("east", "g1", 1), qos=1,
                   port=mqtt_broker.port)  # fmt: skip
    assert failed.wait(10) and collector.failure == "RuntimeError: a bug"
    collector.stop()
    broken.close()
    store = open_store(f"sqlite:///{tmp_path / 'fleet.db'}")
    restarted = _run(settings, store)  # the supervisor's restart: the event comes again
    assert _until(lambda: store.count()["events"] == 1)
    restarted.stop()
    store.close()
