"""The durable outbox: stamps, ordering, persistence, bounds, group commit, failures."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock, SystemClock
from edge.errors import StorageError
from edge.events import GateEvent, TemperatureFacts
from edge.storage.outbox import Outbox
from edge.wire.schema_files import load_schema

EVENT_SCHEMA = load_schema("event")


def _outbox(path: Path, clock: FakeClock | None = None, **kw: object) -> Outbox:
    return Outbox(path / "outbox.db", site="s1", gate="g1", clock=clock or FakeClock(), **kw)  # type: ignore[arg-type]


def _decision() -> GateEvent:
    return GateEvent(
        kind="decision",
        decision="deny",
        reasons=("fever",),
        method="camera",
        issuer="CN-HEALTH",
        colour="green",
        code_id_hash="ab" * 16,
        temperature=TemperatureFacts("ok", 37.9, 22.0, 38.1, "wrist-v1", 5),
        timings_ms={"decode": 12.5, "verify": 1.0},
    )


def test_emit_stamps_id_seq_and_time_and_matches_schema(tmp_path: Path) -> None:
    clock = FakeClock(start=1_767_225_600.123)
    outbox = _outbox(tmp_path, clock)
    outbox.emit(_decision())
    clock.advance(1.5)
    outbox.emit(GateEvent(kind="test"))
    entries = outbox.pending()
    docs = [json.loads(e.payload) for e in entries]
    for doc in docs:
        jsonschema.validate(doc, EVENT_SCHEMA)
    assert [d["seq"] for d in docs] == [1, 2]
    assert [d["ts"] for d in docs] == [1_767_225_600_123, 1_767_225_601_623]
    assert uuid.UUID(docs[0]["event_id"]).version == 4
    assert docs[0]["event_id"] != docs[1]["event_id"]
    assert (docs[0]["site"], docs[0]["gate"], docs[0]["decision"]) == ("s1", "g1", "deny")
    assert docs[0]["temperature"]["estimate_c"] == 38.1
    assert [e.event_id for e in entries] == [d["event_id"] for d in docs]


def test_payload_carries_only_the_documented_fields(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    outbox.emit(_decision())
    doc = json.loads(outbox.pending()[0].payload)
    assert set(doc) == set(EVENT_SCHEMA["properties"])
    text = outbox.pending()[0].payload.decode()
    for forbidden in ("name", "document", "qr", "raw"):
        assert f'"{forbidden}' not in text


def test_unacknowledged_events_replay_in_order_after_reopen(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    for _ in range(10):
        outbox.emit(GateEvent(kind="test"))
    entries = outbox.pending()
    for entry in entries[:4]:
        outbox.ack(entry.rowid)
    outbox.close()
    reopened = _outbox(tmp_path)
    assert [e.seq for e in reopened.pending()] == list(range(5, 11))
    reopened.emit(GateEvent(kind="test"))
    assert reopened.pending()[-1].seq == 11
    assert reopened.last_seq() == 11
    assert reopened.depth() == 7


def test_ack_deletes_only_that_event(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    for _ in range(3):
        outbox.emit(GateEvent(kind="test"))
    middle = outbox.pending()[1]
    outbox.ack(middle.rowid)
    assert [e.seq for e in outbox.pending()] == [1, 3]
    assert [e.seq for e in outbox.pending(after_rowid=middle.rowid)] == [3]


def test_size_bound_drops_oldest_and_counts_persistently(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, max_events=100)
    outbox.emit_many(GateEvent(kind="test") for _ in range(130))
    for _ in range(20):
        outbox.emit(GateEvent(kind="test"))
    assert outbox.depth() == 100
    assert outbox.dropped() == 50
    assert outbox.pending(limit=1)[0].seq == 51
    outbox.close()
    assert _outbox(tmp_path, max_events=100).dropped() == 50


def test_age_bound_drops_expired_events(tmp_path: Path) -> None:
    clock = FakeClock()
    outbox = _outbox(tmp_path, clock, max_age_s=3600.0)
    outbox.emit_many(GateEvent(kind="test") for _ in range(5))
    clock.advance(1800)
    outbox.emit(GateEvent(kind="test"))
    clock.advance(2000)
    assert outbox.oldest_age_s() == pytest.approx(3800.0)
    outbox.emit(GateEvent(kind="test"))
    assert [e.seq for e in outbox.pending()] == [6, 7]
    assert outbox.dropped() == 5


def test_concurrent_emitters_get_unique_ordered_sequence_numbers(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    seen: dict[int, list[int]] = {}

    def emitter(index: int) -> None:
        seen[index] = [outbox.emit_many([GateEvent(kind="test")])[0].seq for _ in range(100)]

    threads = [threading.Thread(target=emitter, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = sorted(s for seqs in seen.values() for s in seqs)
    assert every == list(range(1, 801))
    assert all(seqs == sorted(seqs) for seqs in seen.values())
    stored = [e.seq for e in outbox.pending(limit=1000)]
    assert stored == list(range(1, 801))


def test_emit_returns_only_after_the_event_is_on_disk(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    outbox.emit(GateEvent(kind="test"))
    # A second connection (as after a power cut) sees the committed row immediately.
    with sqlite3.connect(tmp_path / "outbox.db") as other:
        assert other.execute("SELECT count(*) FROM events").fetchone()[0] == 1
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_storage_failures_raise_storage_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StorageError):
        Outbox(tmp_path / "dir.db", site="s", gate="g", clock=SystemClock())
    outbox = _outbox(tmp_path)
    outbox.close()
    with pytest.raises(StorageError):
        outbox.emit(GateEvent(kind="test"))


def test_a_failed_commit_raises_and_stores_nothing(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    blocker = sqlite3.connect(tmp_path / "outbox.db", isolation_level=None)
    blocker.execute("PRAGMA busy_timeout=0")
    blocker.execute("BEGIN EXCLUSIVE")
    outbox._conn.execute("PRAGMA busy_timeout=50")
    with pytest.raises(StorageError):
        outbox.emit(GateEvent(kind="test"))
    blocker.execute("ROLLBACK")
    blocker.close()
    assert outbox.depth() == 0
    outbox.emit(GateEvent(kind="test"))
    assert outbox.depth() == 1


_text = st.text(max_size=300)
_opt = st.none() | _text
_num = st.none() | st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    reasons=st.lists(st.text(max_size=200), max_size=5),
    issuer=st.none() | st.text(max_size=64),
    detail=_opt,
    timings=st.dictionaries(st.text(max_size=20), st.floats(allow_nan=False, allow_infinity=False)),
    temperature=st.none()
    | st.builds(
        TemperatureFacts, st.text(max_size=10), _num, _num, _num, st.text(), st.integers(0, 99)
    ),
)
def test_any_event_serializes_to_a_schema_valid_payload(
    tmp_path_factory: pytest.TempPathFactory,
    reasons: list[str],
    issuer: str | None,
    detail: str | None,
    timings: dict[str, float],
    temperature: TemperatureFacts | None,
) -> None:
    outbox = _outbox(tmp_path_factory.mktemp("o"))
    event = GateEvent(
        kind="fault",
        reasons=tuple(reasons),
        issuer=issuer,
        detail=detail,
        timings_ms=timings,
        temperature=temperature,
    )
    outbox.emit(event)
    doc = json.loads(outbox.pending()[0].payload)
    jsonschema.validate(doc, EVENT_SCHEMA)
    assert doc["reasons"] == reasons
    outbox.close()
