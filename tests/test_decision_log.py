"""The local decisions log: bounded, kept over restarts, no personal data; `decisions` reads it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.cli import main
from edge.cli.decisions_cmd import _line
from edge.core.records import DecisionRecord
from edge.storage.decision_log import DecisionLog, read_decisions


def record(number: int, **changes: object) -> DecisionRecord:
    base = DecisionRecord(
        number=number,
        at=1_790_000_000.0 + number,
        verdict="pass",
        reasons=(),
        method="camera",
        operator="op-secret",
        issuer="CN-110000",
        colour="green",
        code_id_hash="c0ffee" * 5,
        temperature_c=36.6123,
        identity="not_required",
        timings_ms={"frame_to_decision_ms": 12.345, "decision_ms": 3.0},
        emitted=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_bounded_updated_with_the_outcome_and_kept_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "decisions.db"
    log = DecisionLog(path, keep=3)
    for number in range(1, 5):
        log.record(record(number))
    log.record(record(4, outcome="passed"))
    log.close()
    after_restart = DecisionLog(path, keep=3)
    after_restart.record(record(1, verdict="deny", reasons=("colour_red",), colour="red"))
    after_restart.close()  # a new run numbers from 1 again: a new entry, not an update
    entries = read_decisions(path, 10)
    assert [(e["verdict"], e["outcome"]) for e in entries] == [
        ("pass", None),
        ("pass", "passed"),
        ("deny", None),
    ]
    assert entries[-1]["reasons"] == ["colour_red"]
    assert entries[0]["temperature_c"] == 36.61 and entries[0]["latency_ms"] == 12.3
    text = path.read_bytes()
    for secret in (b"op-secret", b"c0ffee", b"CN-110000"):
        assert secret not in text


def test_decisions_command_text_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = DecisionLog(tmp_path / "decisions.db")
    log.record(record(1))
    log.record(record(2, verdict="deny", reasons=("fever",), temperature_c=38.2))
    log.close()
    assert main(["decisions", "--state-dir", str(tmp_path), "--last", "1"]) == 0
    out = capsys.readouterr().out
    assert "DENY" in out and "reason fever" in out and "temp 38.2 °C" in out
    assert "1 decision(s)" in out and "PASS" not in out
    assert main(["decisions", "--state-dir", str(tmp_path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [d["verdict"] for d in document["decisions"]] == ["pass", "deny"]
    assert main(["decisions", "--state-dir", str(tmp_path / "none")]) == 2
    assert "no decisions log" in capsys.readouterr().err


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "at",
                "method",
                "verdict",
                "reasons",
                "colour",
                "temperature_c",
                "latency_ms",
                "outcome",
            ]
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
            max_leaves=5,
        ),
    )
)
def test_any_stored_entry_prints_as_one_line(entry: dict[str, object]) -> None:
    assert _line(entry)  # never raises, whatever the file holds
