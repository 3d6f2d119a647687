"""The outbox under hostile event content and failures inside a commit: it stays usable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock
from edge.errors import StorageError
from edge.events import GateEvent, TemperatureFacts
from edge.storage.outbox import Outbox
from edge.wire.schema_files import load_schema
from tests.hostile import hostile_text

EVENT_SCHEMA = load_schema("event")
_undecodable = st.binary(max_size=60).map(lambda raw: raw.decode("utf-8", "surrogateescape"))
_strings = hostile_text | _undecodable
_optional = st.none() | _strings
_floats = st.floats()  # NaN and infinities included


def _outbox(folder: Path) -> Outbox:
    return Outbox(folder / "outbox.db", site="s1", gate="g1", clock=FakeClock())


def _strict_json(payload: bytes) -> Any:
    def no_constant(text: str) -> Any:
        raise ValueError(f"{text} is not JSON")

    return json.loads(payload.decode("utf-8"), parse_constant=no_constant)


def test_an_unencodable_string_is_stored_and_the_next_event_still_commits(
    tmp_path: Path,
) -> None:
    outbox = _outbox(tmp_path)
    outbox.emit(GateEvent(kind="fault", fault="camera_fault", detail="/dev/video\udcff gone"))
    outbox.emit(GateEvent(kind="test"))
    first, second = outbox.pending()
    assert _strict_json(first.payload)["detail"] == "/dev/video? gone"
    assert _strict_json(second.payload)["kind"] == "test"
    assert (first.seq, second.seq) == (1, 2)
    outbox.close()


class _FailingBounds(Outbox):
    """An outbox whose bound enforcement fails once in the middle of a commit."""

    fail_next: BaseException | None = None

    def _enforce_bounds(self) -> int:
        failure, self.fail_next = self.fail_next, None
        if failure is not None:
            raise failure
        return super()._enforce_bounds()


def test_any_failure_inside_a_commit_rolls_back_and_leaves_the_outbox_usable(
    tmp_path: Path,
) -> None:
    outbox = _FailingBounds(tmp_path / "outbox.db", site="s1", gate="g1", clock=FakeClock())
    outbox.fail_next = RuntimeError("disk driver bug")
    with pytest.raises(StorageError, match="disk driver bug"):
        outbox.emit(GateEvent(kind="test", detail="lost"))
    assert outbox.depth() == 0
    outbox.emit(GateEvent(kind="test", detail="kept"))
    (entry,) = outbox.pending()
    assert entry.seq == 1  # the failed commit left no gap and no half-written row
    assert _strict_json(entry.payload)["detail"] == "kept"
    outbox.close()


def test_an_interrupted_commit_also_rolls_back(tmp_path: Path) -> None:
    outbox = _FailingBounds(tmp_path / "outbox.db", site="s1", gate="g1", clock=FakeClock())
    outbox.fail_next = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        outbox.emit(GateEvent(kind="test"))
    outbox.emit(GateEvent(kind="test"))
    assert [entry.seq for entry in outbox.pending()] == [1]
    outbox.close()


def test_arbitrary_event_content_never_breaks_the_outbox(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        reasons=st.lists(_strings, max_size=4),
        strings=st.lists(_optional, min_size=5, max_size=5),
        timings=st.dictionaries(_strings, _floats, max_size=4),
        temperature=st.none()
        | st.builds(
            TemperatureFacts,
            _strings,
            st.none() | _floats,
            st.none() | _floats,
            st.none() | _floats,
            _strings,
            st.integers(0, 99),
        ),
    )
    def hostile_then_genuine(
        reasons: list[str],
        strings: list[str | None],
        timings: dict[str, float],
        temperature: TemperatureFacts | None,
    ) -> None:
        issuer, colour, operator, fault, detail = strings
        before = outbox.last_seq()
        hostile = GateEvent(
            kind="fault",
            reasons=tuple(reasons),
            issuer=issuer,
            colour=colour,
            operator=operator,
            fault=fault,
            detail=detail,
            timings_ms=timings,
            temperature=temperature,
        )
        outbox.emit(hostile)
        outbox.emit(GateEvent(kind="test", detail="genuine"))
        *_, stored, genuine = outbox.pending(limit=1_000_000)
        document = _strict_json(stored.payload)
        jsonschema.validate(document, EVENT_SCHEMA)
        assert len(document["reasons"]) == len(reasons)
        assert _strict_json(genuine.payload)["detail"] == "genuine"
        assert (stored.seq, genuine.seq) == (before + 1, before + 2)
        for entry in (stored, genuine):
            outbox.ack(entry.rowid)
        outbox.flush_acks()

    hostile_then_genuine()
    outbox.close()
