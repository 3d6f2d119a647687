"""The screen's feed and server: phases from the controller's events, the decision held for its
moment and then forgotten, pushed to the page as server-sent events; hostile requests refused."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock
from edge.core.records import DecisionRecord, GateState
from edge.screen.catalogue import load_catalogues
from edge.screen.feed import ScreenFeed
from edge.screen.server import MAX_STREAMS, ScreenServer
from edge.screen.view import Moment, mask_name, view

CATALOGUES = load_catalogues(["mn-Mong", "zh", "en"])


def record(
    verdict: str = "deny",
    reasons: tuple[str, ...] = ("colour_yellow",),
    name: str | None = "张三丰",
    temperature: float | None = 36.64,
) -> DecisionRecord:
    return DecisionRecord(
        number=1,
        at=1_767_225_600.0,
        verdict=verdict,
        reasons=reasons,
        method="camera",
        operator=None,
        issuer="CN-150000",
        colour="yellow",
        code_id_hash=None,
        temperature_c=temperature,
        identity="not_required",
        timings_ms={},
        emitted=True,
        masked_name=name,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def feed(clock: FakeClock) -> ScreenFeed:
    return ScreenFeed(CATALOGUES, clock, hold_s=5.0)


@pytest.fixture
def server(feed: ScreenFeed) -> Iterator[ScreenServer]:
    server = ScreenServer(feed, "127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_phases_follow_the_controller(feed: ScreenFeed) -> None:
    phases = []
    for state in (GateState.IDLE, GateState.CODE_READ, GateState.IDENTITY, GateState.TEMPERATURE):
        feed.on_state(state)
        phases.append(feed.current()[1]["phase"])
    assert phases == ["idle", "reading", "identity", "measuring"]
    feed.on_decision(record())
    _, document = feed.current()
    assert (document["phase"], document["verdict"], document["colour"]) == (
        "decision",
        "deny",
        "yellow",
    )
    zh = document["languages"][1]
    assert zh["headline"] == "禁止通行" and zh["next"] == ["黄码：请前往健康服务点"]
    assert document["temperature_c"] == 36.6 and document["name"] == "张**"


def test_the_decision_is_forgotten_after_its_moment(feed: ScreenFeed, clock: FakeClock) -> None:
    feed.on_decision(record())
    feed.on_state(GateState.IDLE)
    clock.advance(4.9)
    assert feed.current()[1]["name"] == "张**"
    clock.advance(0.2)
    _, document = feed.current()
    assert document["phase"] == "idle"
    assert document["name"] is None and document["temperature_c"] is None
    assert "张" not in json.dumps(document, ensure_ascii=False)


def test_the_next_visitor_replaces_the_decision_at_once(feed: ScreenFeed) -> None:
    feed.on_decision(record())
    feed.on_state(GateState.CODE_READ)
    assert feed.current()[1]["phase"] == "reading"


def test_out_of_service_and_limited_inputs(feed: ScreenFeed) -> None:
    feed.on_faults({"relay_fault": "pulse failed", "camera_fault": "no frames"})
    _, document = feed.current()
    assert document["phase"] == "out_of_service"
    assert document["faults"] == ["relay_fault", "camera_fault"]
    feed.on_faults({"camera_fault": "no frames", "mqtt_network": "x"})
    _, document = feed.current()
    assert document["phase"] == "idle"
    en = document["languages"][2]
    assert en["notes"] == [CATALOGUES["en"].fault("camera_fault").screen]


def test_out_of_service_hides_a_decision_once_the_gate_is_idle(feed: ScreenFeed) -> None:
    feed.on_state(GateState.DECISION)
    feed.on_decision(record())
    feed.on_faults({"storage_fault": "disk full"})
    assert feed.current()[1]["phase"] == "decision"  # still handling that visitor
    feed.on_state(GateState.IDLE)
    _, document = feed.current()
    assert document["phase"] == "out_of_service"
    assert (document["name"], document["temperature_c"], document["verdict"]) == (None, None, None)


def test_a_passage_update_changes_nothing(feed: ScreenFeed) -> None:
    feed.on_decision(record("pass", ()))
    seq, _ = feed.current()
    feed.on_decision(replace(record("pass", ()), outcome="passed"))
    assert feed.current()[0] == seq


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("Zhang San", "Z*** S**"), ("", None), (None, None), ("  ", None)],
)
def test_names_are_masked_again(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    reasons=st.lists(st.text(max_size=30), max_size=4),
    faults=st.lists(st.text(max_size=30), max_size=4),
    name=st.none() | st.text(max_size=80),
    state=st.sampled_from(list(GateState)),
)
def test_any_reason_fault_or_name_gives_a_screen(
    reasons: list[str], faults: list[str], name: str | None, state: GateState
) -> None:
    moment = Moment(state, record(reasons=tuple(reasons), name=name), tuple(faults))
    document = view(moment, CATALOGUES, 1)
    json.dumps(document)
    assert all(language["headline"] for language in document["languages"])
    masked = document["name"]
    assert masked is None or len(masked) <= 24


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_page_and_state_are_served_without_caching(server: ScreenServer) -> None:
    assert server.url is not None
    status, headers, body = _get(server.url)
    assert status == 200 and b"/screen.js" in body
    assert headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    for asset in ("screen.js", "screen.css"):
        assert _get(server.url + asset)[0] == 200
    status, headers, body = _get(server.url + "state")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["phase"] == "idle"


def test_no_external_resources_in_the_page() -> None:
    for name in ("page.html", "screen.css", "screen.js"):
        text = (resources.files("edge.screen") / "page" / name).read_text()
        assert "http://" not in text and "https://" not in text and "//" + "cdn" not in text


def test_updates_are_pushed_as_server_sent_events(server: ScreenServer, feed: ScreenFeed) -> None:
    assert server.url is not None
    host, port = server.url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request("GET", "/events")
    answer = connection.getresponse()
    assert answer.getheader("Content-Type") == "text/event-stream"

    def next_event() -> dict[str, Any]:
        while True:
            line = answer.fp.readline()
            if line.startswith(b"data: "):
                event: dict[str, Any] = json.loads(line[6:])
                return event

    assert next_event()["phase"] == "idle"
    feed.on_decision(record("pass", ()))
    event = next_event()
    assert event["phase"] == "decision" and event["languages"][0]["tag"] == "mn-Mong"
    connection.close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nothing", 404),
        ("GET", "/../../etc/passwd", 404),
        ("POST", "/state", 405),
        ("DELETE", "/", 405),
        ("GET", "/state?x=%00", 200),
    ],
)
def test_hostile_requests_are_refused(
    server: ScreenServer, method: str, path: str, status: int
) -> None:
    assert server.url is not None
    host, port = server.url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request(method, path)
    assert connection.getresponse().status == status
    connection.close()
    assert _get(server.url + "state")[0] == 200  # still serving


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=st.binary(max_size=300))
def test_garbage_requests_never_stop_the_server(server: ScreenServer, request: bytes) -> None:
    assert server.url is not None
    host, port = server.url.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(request + b"\r\n\r\n")
        raw.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            raw.recv(256)
    assert _get(server.url + "state")[0] == 200


def test_streams_are_capped(server: ScreenServer) -> None:
    assert server.url is not None
    host, port = server.url.removeprefix("http://").rstrip("/").split(":")
    streams = []
    for _ in range(MAX_STREAMS):
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        connection.request("GET", "/events")
        answer = connection.getresponse()  # holds the socket open: keep it
        assert answer.status == 200
        streams.append((connection, answer))
    extra = http.client.HTTPConnection(host, int(port), timeout=5)
    extra.request("GET", "/events")
    assert extra.getresponse().status == 503
    for connection, answer in streams:
        answer.close()
        connection.close()
    extra.close()


_EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("state"), st.sampled_from(list(GateState))),
        st.tuples(st.just("decision"), st.sampled_from(["pass", "deny"])),
        st.tuples(st.just("faults"), st.sets(st.sampled_from(["relay_fault", "camera_fault"]))),
        st.tuples(st.just("wait"), st.floats(min_value=0.0, max_value=8.0)),
    ),
    max_size=30,
)


@settings(max_examples=60)
@given(events=_EVENTS)
def test_any_sequence_of_events_keeps_the_screen_consistent(events: list[tuple[str, Any]]) -> None:
    clock = FakeClock()
    feed = ScreenFeed(CATALOGUES, clock, hold_s=5.0)
    last_seq, decided_at = 0, None
    for kind, value in events:
        if kind == "state":
            feed.on_state(value)
        elif kind == "decision":
            feed.on_decision(record(value, () if value == "pass" else ("fever",)))
            decided_at = clock.monotonic()
        elif kind == "faults":
            feed.on_faults(dict.fromkeys(value, "x"))
        else:
            clock.advance(value)
        seq, document = feed.current()
        assert seq >= last_seq
        last_seq = seq
        if decided_at is None or clock.monotonic() - decided_at >= 5.0:
            assert document["name"] is None  # nothing personal beyond its moment
        if document["phase"] != "decision":
            assert document["name"] is None and document["temperature_c"] is None
