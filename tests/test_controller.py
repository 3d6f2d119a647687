"""Tests of the gate controller's state machine with minimal fakes for every dependency."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field, replace

import jsonschema
import pytest

from edge.clock import FakeClock
from edge.core.controller import GateController
from edge.core.records import DecisionRecord, GateState, Indicators
from edge.core.settings import PolicySettings
from edge.core.steps import GateDevices
from edge.credentials.binding import subject_binding
from edge.credentials.result import VerificationResult
from edge.errors import RelayError, SensorError, StorageError
from edge.events import GateEvent
from edge.faults import Fault
from edge.reasons import Reason
from edge.thermo.reading import Measurement, TemperatureReading
from edge.wire.documents import EventStamp, event_document
from edge.wire.schema_files import load_schema

DOCUMENT = "G12345678"
BINDING = subject_binding("CN-GD", DOCUMENT)


def green(code_id: bytes = b"code-1", binding: bytes | None = BINDING) -> VerificationResult:
    return VerificationResult(
        valid=True,
        colour="green",
        issuer="CN-GD",
        code_id=code_id,
        expires_at=2_000_000_000,
        subject_binding=binding,
    )


def reading(state: str = "normal", estimate: float | None = 36.5) -> TemperatureReading:
    return TemperatureReading(state, 35.0, 22.0, estimate, "ambient", 5)  # type: ignore[arg-type]


@dataclass
class FakeRelay:
    clock: FakeClock
    pulses: list[float] = field(default_factory=list)
    releases: int = 0
    fail: bool = False

    def pulse(self, duration_ms: int | None = None) -> None:
        if self.fail:
            raise RelayError("relay board not answering")
        self.pulses.append(self.clock.monotonic())

    def release(self) -> None:
        self.releases += 1

    def close(self) -> None:
        self.release()


@dataclass
class FakeThermometer:
    clock: FakeClock
    readings: deque[TemperatureReading | Exception] = field(default_factory=deque)
    takes_s: float = 0.2
    timeouts: list[float] = field(default_factory=list)

    def measure(self, timeout_s: float) -> TemperatureReading:
        self.timeouts.append(timeout_s)
        self.clock.advance(self.takes_s)
        item = self.readings.popleft() if self.readings else reading()
        if isinstance(item, Exception):
            raise item
        return item

    def measure_again(self, timeout_s: float) -> TemperatureReading:
        return self.measure(timeout_s)


@dataclass
class FakeSink:
    events: list[GateEvent] = field(default_factory=list)
    fail: bool = False

    def emit(self, event: GateEvent) -> None:
        if self.fail:
            raise StorageError("disk full")
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def of(self, kind: str) -> list[GateEvent]:
        return [e for e in self.events if e.kind == kind]


@dataclass
class FakeInput:
    clock: FakeClock
    answers: deque[bool] = field(default_factory=deque)

    def is_active(self) -> bool:
        return False

    def wait_for_active(self, timeout_s: float) -> bool:
        answer = self.answers.popleft() if self.answers else True
        self.clock.advance(0.8 if answer else timeout_s)
        return answer

    def close(self) -> None:
        pass


@dataclass
class FakeOutput:
    name: str
    log: list[tuple[str, bool]]

    def on(self) -> None:
        self.log.append((self.name, True))

    def off(self) -> None:
        self.log.append((self.name, False))

    def close(self) -> None:
        self.off()


@dataclass
class FakeLines:
    clock: FakeClock
    lines: deque[str] = field(default_factory=deque)
    arrive_after_drain: deque[str] = field(default_factory=deque)
    fail: bool = False

    def read_line(self, timeout_s: float) -> str | None:
        if self.fail:
            raise OSError("unplugged")
        if self.lines:
            return self.lines.popleft()
        if timeout_s > 0 and self.arrive_after_drain:
            self.clock.advance(0.5)
            return self.arrive_after_drain.popleft()
        self.clock.advance(timeout_s)
        return None

    def close(self) -> None:
        pass


class Rig:
    """A controller wired to fakes."""

    def __init__(
        self,
        policy: PolicySettings | None = None,
        *,
        passage: bool = True,
        sink: FakeSink | None = None,
        relay_class: type[FakeRelay] = FakeRelay,
    ) -> None:
        self.clock = FakeClock()
        self.policy = policy or PolicySettings(cooldown_s=1.0, deny_signal_s=1.0)
        self.relay = relay_class(self.clock)
        self.thermo = FakeThermometer(self.clock)
        self.sink = sink if sink is not None else FakeSink()
        self.passage = FakeInput(self.clock)
        self.lines = FakeLines(self.clock)
        self.signals: list[tuple[str, bool]] = []
        self.records: list[DecisionRecord] = []
        self.draws = deque([0.5])
        self.controller = GateController(
            policy=self.policy,
            devices=GateDevices(
                relay=self.relay,
                thermometer=self.thermo,
                identity_source=self.lines,
                passage_input=self.passage if passage else None,
                indicators=Indicators(
                    green=FakeOutput("green", self.signals),
                    red=FakeOutput("red", self.signals),
                    buzzer=FakeOutput("buzzer", self.signals),
                ),
            ),
            events=self.sink,
            clock=self.clock,
            draw=lambda: self.draws[0],
            on_decision=self.records.append,
        )

    def scan(self, result: VerificationResult, source: str = "camera") -> bool:
        return self.controller.handle_scan(
            source,  # type: ignore[arg-type]
            result,
            decode_ms=3.0,
            frame_time=self.clock.monotonic() - 0.010,
        )

    def decisions(self) -> list[tuple[str | None, tuple[str, ...]]]:
        return [(e.decision, e.reasons) for e in self.sink.of("decision")]


def test_green_normal_opens_and_confirms_passage() -> None:
    rig = Rig()
    assert rig.scan(green())
    assert rig.decisions() == [("pass", ())]
    assert len(rig.relay.pulses) == 1
    passage = rig.sink.of("passage")
    assert [(e.outcome, e.method, e.issuer) for e in passage] == [("passed", "camera", "CN-GD")]
    decision = rig.sink.of("decision")[0]
    assert decision.code_id_hash == green().code_id_hash
    assert decision.temperature is not None and decision.temperature.estimate_c == 36.5
    assert rig.controller.status().state is GateState.IDLE
    assert rig.thermo.timeouts == [rig.policy.temperature_timeout_s]


def test_timings_are_recorded() -> None:
    rig = Rig()
    rig.scan(green())
    timings = rig.sink.of("decision")[0].timings_ms
    assert timings["decode_ms"] == 3.0
    assert timings["frame_to_controller_ms"] == pytest.approx(10.0)
    assert timings["temperature_ms"] == pytest.approx(200.0)
    assert {"decision_ms", "frame_to_decision_ms"} <= set(timings)
    passage = rig.sink.of("passage")[0].timings_ms
    assert passage["frame_to_relay_ms"] == pytest.approx(210.0)
    assert passage["passage_ms"] == pytest.approx(800.0)


def test_decision_event_is_stored_before_the_relay_moves() -> None:
    order: list[str] = []

    class OrderedSink(FakeSink):
        def emit(self, event: GateEvent) -> None:
            order.append(event.kind)

    class OrderedRelay(FakeRelay):
        def pulse(self, duration_ms: int | None = None) -> None:
            order.append("pulse")

    rig = Rig(sink=OrderedSink(), relay_class=OrderedRelay)
    rig.scan(green())
    assert order == ["decision", "pulse", "passage"]


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (replace(green(), colour="yellow"), "colour_yellow"),
        (replace(green(), colour="red"), "colour_red"),
        (VerificationResult.invalid(Reason.BAD_SIGNATURE), "bad_signature"),
        (VerificationResult.invalid(Reason.REVOKED, "CN-GD", b"code-1"), "revoked"),
    ],
)
def test_bad_code_denies_without_measuring(result: VerificationResult, reason: str) -> None:
    rig = Rig()
    rig.scan(result)
    assert rig.decisions() == [("deny", (reason,))]
    assert rig.relay.pulses == []
    assert rig.thermo.timeouts == []
    assert rig.sink.of("passage") == []
    assert ("red", True) in rig.signals and ("buzzer", True) in rig.signals
    assert rig.signals[-1][1] is False and ("green", True) not in rig.signals


def test_fever_denies_and_keeps_the_gate_shut() -> None:
    rig = Rig()
    rig.thermo.readings.append(reading("fever", 38.1))
    rig.scan(green())
    assert rig.decisions() == [("deny", ("fever",))]
    assert rig.relay.pulses == []


def test_reused_code_is_denied_after_a_confirmed_passage() -> None:
    rig = Rig()
    rig.scan(green())
    rig.clock.advance(10)
    rig.scan(green())
    rig.scan(green(code_id=b"code-2"))  # same person, another code
    assert rig.decisions() == [
        ("pass", ()),
        ("deny", ("already_used",)),
        ("deny", ("already_used",)),
    ]
    rig.clock.advance(rig.policy.anti_passback_s)
    rig.scan(green())
    assert rig.decisions()[-1] == ("pass", ())


def test_granted_but_not_passed_may_try_again() -> None:
    rig = Rig()
    rig.passage.answers.extend([False, True])
    rig.scan(green())
    assert [e.outcome for e in rig.sink.of("passage")] == ["granted_not_passed"]
    rig.scan(green())
    assert rig.decisions() == [("pass", ()), ("pass", ())]
    assert [e.outcome for e in rig.sink.of("passage")] == ["granted_not_passed", "passed"]


def test_unmonitored_gate_counts_the_pulse_as_the_passage() -> None:
    rig = Rig(passage=False)
    rig.scan(green())
    rig.scan(green())
    assert rig.decisions() == [("pass", ()), ("deny", ("already_used",))]
    assert rig.sink.of("passage") == []


def identity_rig(mode: str = "always") -> Rig:
    return Rig(PolicySettings(person_code_match=mode, cooldown_s=0.0))  # type: ignore[arg-type]


def test_identity_match_lets_the_holder_pass() -> None:
    rig = identity_rig()
    rig.lines.arrive_after_drain.append(DOCUMENT + "\r\n")
    rig.scan(green())
    assert rig.decisions() == [("pass", ())]
    assert rig.records[0].identity == "matched"
    assert "identity_ms" in rig.sink.of("decision")[0].timings_ms


def test_identity_mismatch_and_stale_lines_are_discarded() -> None:
    rig = identity_rig()
    rig.lines.lines.append(DOCUMENT)  # left over from someone before: must not count
    rig.lines.arrive_after_drain.append("X99999999")
    rig.scan(green())
    assert rig.decisions() == [("deny", ("identity_mismatch",))]
    assert rig.thermo.timeouts == []


def test_a_document_shown_as_soon_as_the_gate_asks_is_not_discarded() -> None:
    rig = identity_rig()
    states_at_discard: list[GateState] = []
    read_line = rig.lines.read_line

    def watching_read_line(timeout_s: float) -> str | None:
        state = rig.controller.status().state
        if timeout_s == 0.0:
            states_at_discard.append(state)
        elif state == GateState.IDENTITY and not rig.lines.lines:
            rig.lines.lines.append(DOCUMENT)  # typed the instant the prompt appeared
        return read_line(timeout_s)

    rig.lines.read_line = watching_read_line  # type: ignore[method-assign]
    rig.scan(green())
    assert rig.decisions() == [("pass", ())]
    assert states_at_discard and GateState.IDENTITY not in states_at_discard


def test_identity_timeout_denies() -> None:
    rig = identity_rig()
    before = rig.clock.monotonic()
    rig.scan(green())
    assert rig.decisions() == [("deny", ("identity_missing",))]
    assert rig.clock.monotonic() - before >= rig.policy.identity_timeout_s


def test_identity_reader_fault_denies() -> None:
    rig = identity_rig()
    rig.lines.fail = True
    rig.scan(green())
    assert rig.decisions() == [("deny", ("document_reader_fault",))]
    assert [e.fault for e in rig.sink.of("fault")] == ["document_reader_fault"]


def test_sampled_identity_uses_the_injected_draw() -> None:
    rig = Rig(PolicySettings(person_code_match="sampled", match_sample_percent=10.0))
    rig.draws[0] = 0.5
    rig.scan(green())
    rig.draws[0] = 0.05
    rig.scan(green(code_id=b"code-9", binding=None))
    assert rig.decisions() == [("pass", ()), ("deny", ("identity_not_bound",))]


def test_events_never_carry_the_document_number() -> None:
    rig = identity_rig()
    rig.lines.arrive_after_drain.append(DOCUMENT)
    rig.scan(green())
    rig.lines.arrive_after_drain.append(DOCUMENT)
    rig.scan(green(code_id=b"code-3", binding=subject_binding("CN-GD", "other")))
    assert DOCUMENT not in repr(rig.sink.events) + repr(rig.records)


def test_manual_pass_records_the_operator() -> None:
    rig = Rig()
    assert rig.controller.handle_manual("op-7", "central", "cmd-42")
    decision = rig.sink.of("decision")[0]
    assert (decision.decision, decision.method, decision.operator) == ("pass", "manual", "op-7")
    assert decision.detail == "source=central command_id=cmd-42"
    assert len(rig.relay.pulses) == 1
    assert rig.sink.of("passage")[0].operator == "op-7"


def test_manual_pass_needs_a_normal_temperature_and_permission() -> None:
    rig = Rig(PolicySettings(manual_pass_allowed=False))
    rig.controller.handle_manual("op-7", "button", None)
    rig2 = Rig()
    rig2.thermo.readings.append(reading("fever", 38.4))
    rig2.controller.handle_manual("op-7", "button", None)
    assert rig.decisions() == [("deny", ("manual_pass_disabled",))]
    assert rig2.decisions() == [("deny", ("fever",))]
    assert rig.relay.pulses == rig2.relay.pulses == []


def test_latched_fault_denies_everything_until_cleared() -> None:
    rig = Rig()
    rig.controller.report_fault(Fault.CLOCK_FAULT, "clock before 2026")
    rig.controller.report_fault(Fault.CLOCK_FAULT, "still before 2026")  # no second event
    rig.scan(green())
    rig.controller.handle_manual("op-1", "button", None)
    assert rig.decisions() == [("deny", ("clock_fault",)), ("deny", ("clock_fault",))]
    assert rig.relay.pulses == []
    assert rig.controller.status().faults == {"clock_fault": "still before 2026"}
    rig.controller.clear_fault(Fault.CLOCK_FAULT)
    rig.scan(green())
    assert rig.decisions()[-1] == ("pass", ())
    faults = [(e.fault, e.detail) for e in rig.sink.of("fault")]
    assert faults == [("clock_fault", "clock before 2026"), ("clock_fault", "cleared")]


def test_a_camera_fault_blocks_camera_codes_only() -> None:
    rig = Rig()
    rig.controller.report_fault(Fault.CAMERA_FAULT, "no frames for 5 s")
    rig.scan(green(b"code-1"))
    rig.scan(green(b"code-2"), source="serial")
    rig.controller.handle_manual("op-1", "button", None)
    rig.controller.handle_manual("op-2", "central", "c-1")
    assert rig.decisions() == [
        ("deny", ("camera_fault",)),
        ("pass", ()),
        ("pass", ()),
        ("pass", ()),
    ]
    assert len(rig.relay.pulses) == 3


def test_a_serial_scanner_or_button_fault_blocks_its_own_input_only() -> None:
    rig = Rig()
    rig.controller.report_fault(Fault.SERIAL_SCANNER_FAULT, "port gone")
    rig.controller.report_fault(Fault.MANUAL_BUTTON_FAULT, "line unreadable")
    rig.scan(green(b"code-1"), source="serial")
    rig.controller.handle_manual("op-1", "button", None)
    rig.scan(green(b"code-2"))
    rig.controller.handle_manual("op-2", "central", "c-1")
    assert rig.decisions() == [
        ("deny", ("serial_scanner_fault",)),
        ("deny", ("manual_button_fault",)),
        ("pass", ()),
        ("pass", ()),
    ]


def test_a_broken_lamp_is_reported_and_blocks_nobody_then_heals_on_reprobe() -> None:
    rig = Rig()
    rig.controller.report_fault(Fault.INDICATOR_FAULT, "red lamp line: I/O error")
    rig.scan(green())
    assert rig.decisions() == [("pass", ())]
    assert len(rig.relay.pulses) == 1
    assert "indicator_fault" in rig.controller.faults  # still reported
    rig.controller.reprobe()
    assert rig.controller.faults == {}


def test_a_document_reader_fault_blocks_only_presentations_that_need_it() -> None:
    rig = Rig(PolicySettings(person_code_match="sampled", match_sample_percent=50.0))
    rig.controller.report_fault(Fault.DOCUMENT_READER_FAULT, "could not be opened")
    rig.draws[0] = 0.9  # not sampled: no document needed
    rig.scan(green(b"code-1"))
    rig.draws[0] = 0.1  # sampled: the document is needed
    rig.lines.lines.append("E7654321")
    rig.scan(green(b"code-2", subject_binding("CN-GD", "E7654321")))
    assert rig.decisions() == [("pass", ()), ("deny", ("document_reader_fault",))]


def test_a_relay_fault_blocks_everything_until_cleared() -> None:
    rig = Rig()
    rig.controller.report_fault(Fault.RELAY_FAULT, "pulse failed")
    rig.controller.handle_manual("op-2", "central", "c-1")
    rig.scan(green())
    assert rig.decisions() == [("deny", ("relay_fault",)), ("deny", ("relay_fault",))]
    rig.controller.clear_fault(Fault.RELAY_FAULT)
    rig.scan(green())
    assert rig.decisions()[-1] == ("pass", ())


def test_fault_reported_during_measurement_stops_the_pass() -> None:
    rig = Rig()

    def measure(timeout_s: float) -> TemperatureReading:
        rig.controller.report_fault(Fault.RELAY_FAULT, "coil open")
        return reading()

    rig.thermo.measure = measure  # type: ignore[method-assign]
    rig.scan(green())
    assert rig.decisions() == [("deny", ("relay_fault",))]
    assert rig.relay.pulses == []


def test_storage_fault_keeps_the_gate_shut_and_heals() -> None:
    rig = Rig()
    rig.sink.fail = True
    rig.scan(green())
    assert rig.relay.pulses == []
    assert rig.records[0].verdict == "deny" and rig.records[0].reasons == ("storage_fault",)
    assert not rig.records[0].emitted
    assert "storage_fault" in rig.controller.faults
    rig.sink.fail = False
    rig.scan(green())  # denied (fault still latched) but stored: storage works again
    assert rig.decisions() == [("deny", ("storage_fault",))]
    assert rig.controller.faults == {}
    rig.scan(green())
    assert rig.decisions()[-1] == ("pass", ())


def test_relay_failure_latches_a_fault() -> None:
    rig = Rig()
    rig.relay.fail = True
    rig.scan(green())
    assert [e.outcome for e in rig.sink.of("passage")] == ["granted_not_passed"]
    assert rig.sink.of("passage")[0].detail == "relay_fault"
    assert "frame_to_relay_ms" not in rig.sink.of("passage")[0].timings_ms
    assert rig.controller.faults.keys() == {"relay_fault"}
    assert rig.relay.releases >= 1
    rig.relay.fail = False
    rig.scan(green())
    assert rig.decisions()[-1] == ("deny", ("relay_fault",))


def test_sensor_fault_and_exceptions_deny() -> None:
    rig = Rig()
    rig.thermo.readings.extend([reading("sensor_fault", None), SensorError("bus")])
    rig.scan(green())
    rig.scan(green())
    assert rig.decisions() == [("deny", ("sensor_fault",)), ("deny", ("sensor_fault",))]
    assert [e.fault for e in rig.sink.of("fault")] == ["sensor_fault", "sensor_fault"]
    assert rig.controller.faults == {}  # transient: the next reading decides again
    rig.scan(green())
    assert rig.decisions()[-1] == ("pass", ())


def test_no_reading_is_temperature_unavailable() -> None:
    rig = Rig()
    rig.thermo.readings.append(reading("no_subject", None))
    rig.scan(green())
    assert rig.decisions() == [("deny", ("temperature_unavailable",))]


def test_listener_sees_decision_then_outcome_and_cannot_break_the_gate() -> None:
    rig = Rig()

    def broken(record: DecisionRecord) -> None:
        raise RuntimeError("display gone")

    rig.controller.add_listener(broken)
    rig.scan(green())
    assert [(r.number, r.verdict, r.outcome) for r in rig.records] == [
        (1, "pass", None),
        (1, "pass", "passed"),
    ]
    assert len(rig.relay.pulses) == 1


def test_cooldown_and_signals_follow_the_decision() -> None:
    rig = Rig(PolicySettings(cooldown_s=2.0, deny_signal_s=1.5))
    before = rig.clock.monotonic()
    rig.scan(VerificationResult.invalid(Reason.EXPIRED))
    assert rig.clock.monotonic() - before == pytest.approx(3.5)
    assert rig.signals[:4] == [("red", True), ("buzzer", True), ("buzzer", False), ("red", False)]
    rig.signals.clear()
    rig.scan(green())
    assert rig.signals[:2] == [("green", True), ("green", False)]


def test_busy_controller_drops_requests() -> None:
    rig = Rig()
    inside = threading.Event()
    release = threading.Event()

    def measure(timeout_s: float) -> TemperatureReading:
        inside.set()
        release.wait(5)
        return reading()

    rig.thermo.measure = measure  # type: ignore[method-assign]
    rig.controller.start()
    try:
        assert rig.scan(green())
        assert inside.wait(5)
        assert rig.controller.status().state is GateState.TEMPERATURE
        assert not rig.scan(green(code_id=b"other"))
        assert not rig.controller.handle_manual("op", "central", "c1")
        release.set()
        assert rig.controller.wait_idle(5)
        assert rig.scan(green(code_id=b"third", binding=None))
        assert rig.controller.wait_idle(5)
    finally:
        rig.controller.close()
    status = rig.controller.status()
    assert (status.presentations, status.passes, status.dropped) == (2, 2, 2)
    assert not rig.scan(green(code_id=b"after-close"))


def test_close_releases_relay_and_switches_indicators_off() -> None:
    rig = Rig()
    rig.controller.start()
    rig.controller.close()
    assert rig.relay.releases == 1
    assert {name for name, on in rig.signals if not on} == {"green", "red", "buzzer"}


def test_a_fault_that_hit_one_presentation_is_remembered_for_the_status_topic() -> None:
    rig = identity_rig()
    shown: list[dict[str, str]] = []
    rig.controller.watch_faults(shown.append)
    rig.lines.fail = True
    rig.scan(green())
    assert rig.decisions() == [("deny", ("document_reader_fault",))]
    assert rig.controller.faults == {}  # not latched: the next person may succeed
    recent = shown[-1]
    assert list(recent) == ["document_reader_fault"]
    assert (
        recent["document_reader_fault"].startswith("at 20")
        and "OSError" in recent["document_reader_fault"]
    )
    rig.clock.advance(301.0)
    rig.controller.expire_faults()
    assert shown[-1] == {}


def test_every_measurement_of_the_presentation_is_in_its_event() -> None:
    rig = Rig()
    history = (Measurement("fever", 37.6), Measurement("normal", 36.6), Measurement("normal", 36.7))
    rig.thermo.readings.append(replace(reading(estimate=36.7), measurements=history))
    rig.scan(green())
    event = rig.sink.of("decision")[0]
    assert event.temperature is not None
    assert event.temperature.measurements == (("fever", 37.6), ("normal", 36.6), ("normal", 36.7))
    document = event_document(event, EventStamp(str(uuid.uuid4()), "s", "g", 1, 1_767_225_600_000))
    jsonschema.validate(document, load_schema("event"))
    assert document["temperature"]["measurements"][0] == {"state": "fever", "estimate_c": 37.6}


@pytest.mark.parametrize(
    "typed",
    ["g12345678", " G1234 5678 ", "Ｇ１２３４５６７８", "G12345678\u3000", "\tg12345678\n"],
)
def test_document_numbers_are_normalised_before_matching(typed: str) -> None:
    rig = Rig(PolicySettings(person_code_match="always"))
    rig.lines.arrive_after_drain.append(typed)
    rig.scan(green())
    assert rig.decisions() == [("pass", ())]
    assert rig.records[0].identity == "matched"


def test_chinese_id_check_digit_x_matches_either_case() -> None:
    assert subject_binding("CN-GD", "11010519491231002x") == subject_binding(
        "CN-GD", "11010519491231002X"
    )
    assert subject_binding("CN-GD", "110105194912310021") != subject_binding(
        "CN-GD", "11010519491231002X"
    )


def test_the_identity_outcome_not_the_number_is_in_the_decision_event() -> None:
    rig = Rig(PolicySettings(person_code_match="always", cooldown_s=0.0, deny_signal_s=0.0))
    rig.lines.arrive_after_drain.append(DOCUMENT)
    rig.scan(green(b"code-1"))
    rig.lines.arrive_after_drain.append("E0000000")
    rig.scan(green(b"code-2", subject_binding("CN-GD", "E7654321")))
    rig.scan(green(b"code-3", binding=None))
    outcomes = [e.identity for e in rig.sink.of("decision")]
    assert outcomes == ["matched", "mismatched", "not_bound"]
    unchecked = Rig()
    unchecked.scan(green())
    assert unchecked.sink.of("decision")[0].identity == "not_required"
    for event in rig.sink.events:
        document = event_document(event, EventStamp(str(uuid.uuid4()), "s", "g", 1, 1))
        jsonschema.validate(document, load_schema("event"))
        assert DOCUMENT not in json.dumps(document)


def test_the_document_prompt_is_shown_and_announced() -> None:
    rig = Rig(PolicySettings(person_code_match="always", cooldown_s=0.0, deny_signal_s=0.0))
    rig.lines.arrive_after_drain.append(DOCUMENT)
    rig.scan(green())
    assert rig.sink.kinds()[:2] == ["prompt", "decision"]
    prompt_signals = rig.signals[: rig.signals.index(("green", False)) + 1]
    assert ("green", True) in prompt_signals and ("red", True) in prompt_signals
    assert ("buzzer", True) in prompt_signals
    no_prompt = Rig()
    no_prompt.scan(green())
    assert "prompt" not in no_prompt.sink.kinds()
