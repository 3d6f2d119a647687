"""The fleet store and the message parser: idempotent events, test events apart, sequence gaps,
status order, versioned migrations, and any message refused cleanly."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.cli import main
from central.collect.messages import EventRecord, RefusedMessageError, parse
from central.collect.migrations import LATEST
from central.collect.store import FleetStore, Gap, StoreUnavailableError, open_store
from central.errors import CentralError
from tests.fleet_support import SITE, event_payload, new_postgres_database
from tests.postgres import PostgresServer

TOPIC = f"gates/{SITE}/g01/events"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fleet.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return new_postgres_database(server.url, f"fleet_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(store_url: str) -> Iterator[FleetStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def _event(seq: int, gate: str = "g01", **kwargs: object) -> bytes:
    return event_payload(SITE, gate, seq, **kwargs)  # type: ignore[arg-type]


def _status(state: str, ts: int | None, faults: dict[str, str] | None = None) -> bytes:
    return json.dumps({"state": state, "ts": ts, "faults": faults or {}, "version": "1"}).encode()


def test_events_are_stored_once_and_test_events_apart(store: FleetStore, store_url: str) -> None:
    first = parse(TOPIC, _event(1), 0)
    records = [first, parse(TOPIC, _event(2), 0), parse(TOPIC, _event(3, test=True), 0)]
    store.write(records, 1000)
    store.write([first, records[1]], 2000)  # a redelivered batch
    assert store.count() == {"events": 2, "test_events": 1}
    # A second store on the same database finds the schema in place.
    again = open_store(store_url)
    try:
        assert again.schema_version() == LATEST
        assert again.count() == {"events": 2, "test_events": 1}
    finally:
        again.close()


def test_sequence_gaps_are_reported_per_gate(store: FleetStore) -> None:
    seqs = {"g01": (1, 2, 5, 6, 9), "g02": (1, 2, 3)}
    records = [
        parse(f"gates/{SITE}/{gate}/events", _event(seq, gate), 0)
        for gate, numbers in seqs.items()
        for seq in numbers
    ]
    store.write(records, 0)
    assert store.gaps() == [Gap(SITE, "g01", 3, 4), Gap(SITE, "g01", 7, 8)]


def test_an_older_status_never_replaces_a_newer_one(store: FleetStore) -> None:
    topic = f"gates/{SITE}/g01/status"
    store.write([parse(topic, _status("online", 2000), 0)], 0)
    store.write([parse(topic, _status("offline", 1000), 0)], 0)  # stored late by a peer
    store.write([parse(topic, _status("online", 3000, {"relay_fault": "stuck"}), 0)], 0)
    row = store.query("SELECT state, state_since, status FROM gates")[0]
    assert row[:2] == ("online", 2000)
    assert json.loads(row[2])["faults"] == {"relay_fault": "stuck"}
    # The Last Will has no time: it counts from its receipt.
    store.write([parse(topic, _status("offline", None), 5000)], 0)
    assert store.query("SELECT state, state_since FROM gates")[0] == ("offline", 5000)


def test_fields_outside_the_event_schema_are_not_stored() -> None:
    document = json.loads(_event(1))
    document["name"] = "Zhang San"
    document["qr_text"] = "HC1:secret"
    record = parse(TOPIC, json.dumps(document).encode(), 0)
    assert "Zhang" not in record.document and "HC1" not in record.document


@pytest.mark.parametrize(
    ("topic", "payload", "why"),
    [
        ("gates/s/g/events", b"not json", "not UTF-8 JSON"),
        ("gates/s/g/events", '{"a": 1}'.encode("utf-16"), "not UTF-8 JSON"),
        ("gates/s/g/events", b'{"ts": NaN}', "not UTF-8 JSON"),
        ("gates/s/g/events", b"[1]", "not a JSON object"),
        ("gates/s/g/events", b'{"event_id": "x"}', "event_id"),
        (TOPIC, _event(1, gate="g02"), "another gate"),
        ("gates/s/g/other", b"{}", "not a topic"),
        ("gates/s/g$/events", b"{}", "gate id"),
        ("gates/s/g/status", b'{"state": "maybe"}', "online or offline"),
        ("gates/s/g/cmd-result/nope", b"{}", "UUID"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(topic: str, payload: bytes, why: str) -> None:
    with pytest.raises(RefusedMessageError, match=why):
        parse(topic, payload, 0)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["events", "status", "telemetry", "cmd-result/" + str(uuid.uuid4()), "x"]),
    st.one_of(
        st.binary(max_size=200),
        st.dictionaries(
            st.sampled_from(["event_id", "site", "gate", "seq", "ts", "kind", "decision",
                             "state", "outcome", "command_id", "reason", "test"]),
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40)),
        ).map(lambda d: json.dumps(d).encode()),
    ),
)  # fmt: skip
def test_any_message_is_a_record_or_refused(tail: str, payload: bytes) -> None:
    with contextlib.suppress(RefusedMessageError):
        parse(f"gates/{SITE}/g01/{tail}", payload, 0)


def test_events_count_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    store = open_store(url)
    store.write([parse(TOPIC, _event(seq), 0) for seq in (1, 3)], 0)
    store.close()
    assert main(["events", "count", "--db", url]) == 0
    assert json.loads(capsys.readouterr().out) == {"events": 2, "test_events": 0}
    assert main(["events", "gaps", "--db", url]) == 0
    assert json.loads(capsys.readouterr().out)["missing"] == 1
    assert main(["events", "count", "--db", "mysql://x"]) == 2
    # Readers never create or migrate a store: a missing or empty one is a clear error.
    assert main(["events", "count", "--db", str(tmp_path / "none.db")]) == 2
    assert not (tmp_path / "none.db").exists()
    sqlite3.connect(tmp_path / "empty.db").close()
    assert main(["fleet", "--db", f"sqlite:///{tmp_path / 'empty.db'}"]) == 2
    assert "schema version 0" in capsys.readouterr().err


NASTY = ["a\x00b", "\ud800", "\U0010ffff", "'; DROP TABLE events; --", "\u202e", "x" * 5000]


def test_whatever_text_a_message_holds_is_stored_or_refused(store: FleetStore) -> None:
    """Every record parse() accepts is one the database takes, whatever its strings."""
    for index, text in enumerate(NASTY, start=1):
        command_id = str(uuid.uuid4())
        documents = {
            TOPIC: {**json.loads(_event(index)), "issuer": text, "reasons": [text], "kind": text},
            f"gates/{SITE}/g01/status": {"state": "online", "ts": index, "faults": {text: text}},
            f"gates/{SITE}/g01/telemetry": {"ts": index, text: text},
            f"gates/{SITE}/g01/cmd-result/{command_id}":
                {"command_id": command_id, "outcome": "refused", "reason": text},
        }  # fmt: skip
        for topic, document in documents.items():
            try:
                record = parse(topic, json.dumps(document).encode(), 0)
            except RefusedMessageError:
                continue
            store.write([record], 0)


def test_the_store_tells_a_refusal_from_an_outage(store: FleetStore) -> None:
    poison = EventRecord(str(uuid.uuid4()), SITE, "g01", 1, 0, "\ud800\x00", None, False, "{}")
    with pytest.raises(CentralError) as refused:
        store.write([poison], 0)
    assert not isinstance(refused.value, StoreUnavailableError)
