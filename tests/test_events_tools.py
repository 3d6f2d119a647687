"""`events test|flush` stop at once on causes waiting cannot cure, show progress while they wait,
mark test events as tests, and `events discard --test` removes the undelivered ones."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import jsonschema
import pytest

from edge.cli import main
from edge.clock import SystemClock
from edge.events import GateEvent
from edge.storage.outbox import Outbox
from edge.wire.schema_files import load_schema
from tests.broker import Broker, Subscriber, free_port


def test_a_refusing_broker_is_named_at_once_and_test_events_can_be_discarded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    where = ["--state-dir", str(state)]
    broker = f"mqtt://127.0.0.1:{free_port()}"
    argv = ["events", "test", "--count", "5", "--broker", broker, *where, "--timeout", "120"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "pending: 5 event(s) not acknowledged" in err
    assert "broker: refused:" in err
    assert f"gate-edge events discard --test --state-dir {state}" in err

    outbox = Outbox(state / "outbox.db", site="test", gate="test", clock=SystemClock())
    outbox.emit(GateEvent(kind="fault", fault="camera"))  # a real event stays
    outbox.close()
    assert main(["events", "discard", "--test", *where]) == 0
    assert "discarded 5 undelivered test event(s); 1 other event(s)" in capsys.readouterr().out
    assert main(["events", "pending", *where, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pending"] == 1


def test_an_acl_refusal_stops_at_once_with_its_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Broker(tmp_path / "broker", acl={"central": ["topic read gates/#"]}) as broker:
        argv = ["events", "test", "--count", "3", "--broker", broker.url]
        assert main([*argv, "--state-dir", str(tmp_path / "s"), "--timeout", "120"]) == 1
    assert "broker: not_authorised:" in capsys.readouterr().err


def test_progress_is_shown_while_waiting_for_a_silent_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edge.cli.events_cmd.PROGRESS_EVERY_S", 0.2)
    outbox = Outbox(tmp_path / "outbox.db", site="test", gate="test", clock=SystemClock())
    outbox.emit(GateEvent(kind="test", test=True))
    outbox.close()
    with socket.socket() as silent:  # accepts the TCP connection, never answers CONNECT
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        broker = f"mqtt://127.0.0.1:{silent.getsockname()[1]}"
        argv = ["events", "flush", "--broker", broker, "--state-dir", str(tmp_path)]
        assert main([*argv, "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert f"waiting for {broker} (connecting): 1 event(s) pending" in err


def test_test_events_are_marked_and_others_are_not(
    tmp_path: Path, mqtt_broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = Subscriber(mqtt_broker, "gates/test/test/events")
    try:
        state = tmp_path / "state"
        outbox = Outbox(state / "outbox.db", site="test", gate="test", clock=SystemClock())
        outbox.emit(GateEvent(kind="fault", fault="camera"))
        outbox.close()
        argv = ["events", "test", "--count", "2", "--broker", mqtt_broker.url]
        assert main([*argv, "--state-dir", str(state), "--timeout", "20"]) == 0
        assert sub.wait_for(lambda m: len(m) >= 3)
        docs = [json.loads(p) for _, p, _ in sub.messages]
    finally:
        sub.close()
    for document in docs:
        jsonschema.validate(document, load_schema("event"))
    assert sorted((d["kind"], d["test"]) for d in docs) == [
        ("fault", False),
        ("test", True),
        ("test", True),
    ]
