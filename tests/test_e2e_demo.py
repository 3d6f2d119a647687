"""End to end: the demo scenario, headless, against a real mosquitto; central sees each decision."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import pytest

from edge.sim.demo import GATE, LEGEND, SITE, event_counts, run_demo
from edge.wire.schema_files import load_schema
from tests.broker import Broker, Subscriber

pytestmark = pytest.mark.slow

EXPECTED = [
    ("pass", []),
    ("deny", ["colour_yellow"]),
    ("deny", ["colour_red"]),
    ("deny", ["expired"]),
    ("deny", ["bad_signature"]),
    ("pass", []),
    ("deny", ["already_used"]),
    ("deny", ["revoked"]),
    ("deny", ["fever"]),
    ("pass", []),
    ("deny", ["dcc_test_too_old"]),
    ("pass", []),
]


def test_demo_scenario_reaches_central_exactly(mqtt_broker: Broker) -> None:
    central = Subscriber(mqtt_broker, f"gates/{SITE}/{GATE}/events", client_id="central-e2e")
    try:
        out = io.StringIO()
        outcome = run_demo(out, broker_url=mqtt_broker.url, pace_s=0.05)
        assert outcome.mismatches == [], out.getvalue()
        passes = sum(1 for decision, _ in EXPECTED if decision == "pass")
        assert central.wait_for(lambda msgs: len(msgs) >= len(EXPECTED) + passes, timeout=20)
    finally:
        central.close()
    # The demo's own central counts every gate of the site, each on its own line.
    gates = {event["gate"] for event in outcome.central_events}
    assert len(gates) == 2 and GATE in gates
    lines = event_counts(outcome.central_events)
    assert [line.split(":")[0] for line in lines] == sorted(gates)
    assert all(" decision" in line for line in lines)

    documents: list[dict[str, Any]] = [json.loads(payload) for _, payload, _ in central.messages]
    schema = load_schema("event")
    for document in documents:
        jsonschema.validate(document, schema)
    # At-least-once delivery: an idempotent consumer keys on event_id.
    unique = {doc["event_id"]: doc for doc in documents}
    ordered = sorted(unique.values(), key=lambda doc: doc["seq"])
    decisions = [doc for doc in ordered if doc["kind"] == "decision"]
    assert [(doc["decision"], doc["reasons"]) for doc in decisions] == EXPECTED
    assert [doc["method"] for doc in decisions][-1] == "manual"
    assert {doc["issuer"] for doc in decisions if doc["decision"] == "pass"} >= {
        "CN-150000",
        "CN-110000",
        "SE",
    }
    passages = [doc for doc in ordered if doc["kind"] == "passage"]
    assert [doc["outcome"] for doc in passages] == ["passed"] * passes
    fever = decisions[8]
    assert fever["temperature"]["estimate_c"] >= 37.3
    # Privacy: no raw code text or names travel in events.
    for document in documents:
        assert "HCN1:" not in json.dumps(document)
        assert "HC1:" not in json.dumps(document) and "URN:UVCI" not in json.dumps(document)


def test_event_counts_per_gate_by_kind() -> None:
    events = [
        {"gate": "g2", "kind": "decision"},
        {"gate": "g1", "kind": "decision"},
        {"gate": "g1", "kind": "passage"},
        {"gate": "g1", "kind": "decision"},
    ]
    assert event_counts(events) == [
        "g1: 3 events (2 decision, 1 passage)",
        "g2: 1 events (1 decision)",
    ]
    assert "passage: after each PASS" in LEGEND


def test_demo_runs_outbox_only_without_broker() -> None:
    out = io.StringIO()
    outcome = run_demo(out, use_broker=False, pace_s=0.0)
    assert outcome.mismatches == [], out.getvalue()
    assert outcome.central_events == []
    assert "outbox only" in out.getvalue()
    # The online gate: the platform decides, then the fallback, then the open breaker.
    online = [(record.path, record.method) for _, record in outcome.online_rows if record]
    assert online == [
        ("online", "id_card"),
        ("online", "id_card"),
        ("online", "camera"),
        ("online", "camera"),
        ("offline", "camera"),
        ("online", "id_card"),
        ("online", "camera"),
        ("offline", "camera"),
        ("online", "id_card"),
    ]
    issuers = [record.issuer for _, record in outcome.online_rows[:2] if record]
    assert issuers == ["CN-150000", "CN-110000"]  # the Beijing ID went to Beijing's platform
    waited = [r.timings_ms.get("platform_ms") for _, r in outcome.online_rows[-2:] if r]
    assert waited == [None, None]  # breaker open: the platform is not waited for


def test_demo_on_the_gate_io_board() -> None:
    out = io.StringIO()
    outcome = run_demo(out, use_broker=False, pace_s=0.0, gateio=True, online_gate=False)
    assert outcome.mismatches == []
    text = out.getvalue()
    assert "relay, inputs and lamps on a gate I/O board" in text
    passes = [record for _, record in outcome.rows if record and record.verdict == "pass"]
    assert len(passes) == 4
