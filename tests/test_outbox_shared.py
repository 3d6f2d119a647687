"""One outbox file shared by two Outbox objects or two processes (service + `events test`)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from edge.clock import SystemClock
from edge.events import GateEvent
from edge.storage.outbox import Outbox

ROOT = Path(__file__).resolve().parent.parent


def _open(path: Path, **kw: object) -> Outbox:
    kw.setdefault("clock", SystemClock())
    return Outbox(path / "outbox.db", site="s1", gate="g1", **kw)  # type: ignore[arg-type]


def _stored(path: Path) -> list[tuple[int, int]]:
    """(rowid, seq) of every stored event, read through a third, plain connection."""
    with sqlite3.connect(path / "outbox.db") as db:
        rows = db.execute("SELECT id, seq, payload FROM events ORDER BY id").fetchall()
    for _rowid, seq, payload in rows:
        assert json.loads(payload)["seq"] == seq
    return [(int(r[0]), int(r[1])) for r in rows]


def test_two_outboxes_on_one_file_interleave_distinct_increasing_seq(tmp_path: Path) -> None:
    a, b = _open(tmp_path), _open(tmp_path)
    stamped: list[int] = []
    for round_ in range(20):
        stamped += [s.seq for s in a.emit_many([GateEvent(kind="test")])]
        stamped += [s.seq for s in b.emit_many(GateEvent(kind="test") for _ in range(round_ % 3))]
        b.emit(GateEvent(kind="test"))
        stamped.append(b.last_seq())
    assert stamped == sorted(stamped) and len(set(stamped)) == len(stamped)
    stored = _stored(tmp_path)
    seqs = [seq for _, seq in stored]
    assert seqs == list(range(1, len(stored) + 1))
    assert a.depth() == b.depth() == len(stored) == 59
    assert a.last_seq() == b.last_seq() == 59
    assert [e.seq for e in a.pending(limit=1000)] == [e.seq for e in b.pending(limit=1000)]


def test_depth_and_oldest_follow_deletes_by_the_other_outbox(tmp_path: Path) -> None:
    a, b = _open(tmp_path), _open(tmp_path)
    a.emit_many(GateEvent(kind="test") for _ in range(10))
    b.emit_many(GateEvent(kind="test") for _ in range(5))
    for entry in b.pending(limit=12):
        b.ack(entry.rowid)
    b.flush_acks()
    assert a.depth() == b.depth() == 3
    # Both deliver (e.g. service and `events flush`): a double ack must not miscount.
    for entry in a.pending(limit=100):
        a.ack(entry.rowid)
        b.ack(entry.rowid)
    assert a.depth() == b.depth() == 0
    assert a.oldest_age_s() is None and b.oldest_age_s() is None
    a.emit(GateEvent(kind="test"))
    assert b.depth() == 1 and b.oldest_age_s() is not None
    assert b.pending()[0].seq == 16


def test_size_bound_and_dropped_count_are_shared(tmp_path: Path) -> None:
    a, b = _open(tmp_path, max_events=100), _open(tmp_path, max_events=100)
    a.emit_many(GateEvent(kind="test") for _ in range(60))
    b.emit_many(GateEvent(kind="test") for _ in range(60))
    assert a.depth() == b.depth() == 100
    assert a.dropped() == b.dropped() == 20
    a.emit(GateEvent(kind="test"))
    assert a.dropped() == b.dropped() == 21
    assert b.pending(limit=1)[0].seq == 22


def test_threads_in_two_outboxes_never_share_a_seq(tmp_path: Path) -> None:
    boxes = [_open(tmp_path), _open(tmp_path)]
    seen: list[list[int]] = [[] for _ in range(6)]

    def emitter(index: int) -> None:
        box = boxes[index % 2]
        for _ in range(50):
            seen[index] += [s.seq for s in box.emit_many([GateEvent(kind="test")])]

    threads = [threading.Thread(target=emitter, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s for seqs in seen for s in seqs) == list(range(1, 301))
    assert all(seqs == sorted(seqs) for seqs in seen)
    assert [seq for _, seq in _stored(tmp_path)] == list(range(1, 301))
    assert boxes[0].depth() == boxes[1].depth() == 300


_CHILD = """
import sys
from pathlib import Path
from edge.events import GateEvent
from edge.clock import SystemClock
from edge.storage.outbox import Outbox
box = Outbox(Path(sys.argv[1]) / "outbox.db", site="s1", gate="g1", clock=SystemClock())
print("ready", flush=True)
sys.stdin.readline()
for i in range(300):
    box.emit_many(GateEvent(kind="test", detail="child") for _ in range(1 + i % 2))
box.close()
"""


def test_a_second_process_on_the_same_file(tmp_path: Path) -> None:
    mine = _open(tmp_path)
    mine.emit(GateEvent(kind="test"))
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "ready"
    child.stdin.write("go\n")
    child.stdin.flush()
    acked = 0
    for i in range(300):
        mine.emit_many(GateEvent(kind="test", detail="parent") for _ in range(1 + i % 3))
        if i % 50 == 0:
            for entry in mine.pending(limit=20):
                mine.ack(entry.rowid)
                acked += 1
    assert child.wait(timeout=120) == 0
    mine.flush_acks()
    stored = _stored(tmp_path)
    seqs = [seq for _, seq in stored]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert mine.last_seq() == 1 + 450 + 600
    assert mine.depth() == len(stored) == 1 + 450 + 600 - acked
    reopened = _open(tmp_path)
    assert reopened.depth() == mine.depth()
    assert reopened.last_seq() == mine.last_seq()


def test_an_outbox_file_from_an_earlier_version_opens_with_the_right_depth(
    tmp_path: Path,
) -> None:
    now_ms = int(time.time() * 1000)
    with sqlite3.connect(tmp_path / "outbox.db") as db:
        db.executescript(
            """
            CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL,
                event_id TEXT NOT NULL, created_ms INTEGER NOT NULL, payload BLOB NOT NULL);
            CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT INTO counters VALUES ('seq:s1/g1', 7), ('dropped', 2);
            """
        )
        db.executemany(
            "INSERT INTO events (seq, event_id, created_ms, payload) VALUES (?, ?, ?, ?)",
            [(seq, f"id-{seq}", now_ms, json.dumps({"seq": seq}).encode()) for seq in range(3, 8)],
        )
    box = _open(tmp_path)
    assert (box.depth(), box.last_seq(), box.dropped()) == (5, 7, 2)
    assert box.emit_many([GateEvent(kind="test")])[0].seq == 8
    assert _open(tmp_path).depth() == 6


def test_the_size_bound_counts_rows_exactly_when_acks_left_gaps(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db", site="s", gate="g", max_events=5, clock=SystemClock())
    for _ in range(5):
        outbox.emit(GateEvent(kind="test"))
    rows = outbox.pending()
    for entry in rows[1:3]:  # the broker acknowledged the 2nd and 3rd: a gap in the ids
        outbox.ack(entry.rowid)
    outbox.flush_acks()
    for _ in range(3):
        outbox.emit(GateEvent(kind="test"))
    assert outbox.depth() == 5  # 6 stored, the oldest dropped, not 3 (as max - min would say)
    assert outbox.dropped() == 1
    assert [entry.seq for entry in outbox.pending()] == [4, 5, 6, 7, 8]
    outbox.close()
