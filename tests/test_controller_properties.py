"""Property tests: whatever happens, the controller opens only after a stored pass decision."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock
from edge.core.controller import GateController
from edge.core.faults import faults_blocking
from edge.core.settings import PolicySettings
from edge.core.steps import GateDevices
from edge.credentials.result import VerificationResult
from edge.errors import RelayError, StorageError
from edge.events import GateEvent
from edge.faults import Fault
from edge.reasons import Reason
from edge.thermo.reading import TemperatureReading


@dataclass
class World:
    """Fakes sharing one log, so the order of stores and pulses is visible."""

    clock: FakeClock = field(default_factory=FakeClock)
    log: list[tuple[str, GateEvent | None]] = field(default_factory=list)
    sink_fails: bool = False
    relay_fails: bool = False
    temperature: TemperatureReading | None = None
    controller: GateController | None = None
    pulses_while_faulted: int = 0
    fault_while_measuring: bool = False
    presenting: tuple[str, str | None] = ("camera", None)  # method, manual source

    def emit(self, event: GateEvent) -> None:
        if self.sink_fails:
            raise StorageError("disk full")
        self.log.append(("event", event))

    def pulse(self, duration_ms: int | None = None) -> None:
        if self.relay_fails:
            raise RelayError("no answer")
        assert self.controller is not None
        if faults_blocking(self.controller.faults, *self.presenting):
            self.pulses_while_faulted += 1
        self.log.append(("pulse", None))

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass

    def measure(self, timeout_s: float) -> TemperatureReading:
        if self.fault_while_measuring and self.controller is not None:
            self.controller.report_fault(Fault.CAMERA_FAULT, "failed during the measurement")
        return self.temperature or TemperatureReading("no_subject", None, None, None, "m", 0)

    def measure_again(self, timeout_s: float) -> TemperatureReading:
        return self.measure(timeout_s)


class Sink:
    def __init__(self, world: World) -> None:
        self.world = world

    def emit(self, event: GateEvent) -> None:
        self.world.emit(event)


def reading(state: str, estimate: float | None) -> TemperatureReading:
    return TemperatureReading(state, 35.0, 21.0, estimate, "ambient", 5)  # type: ignore[arg-type]


CODES = st.one_of(
    st.builds(
        lambda n, colour: VerificationResult(
            valid=True, colour=colour, issuer="CN-GD", code_id=bytes([n]), subject_binding=None
        ),
        st.integers(0, 3),
        st.sampled_from(["green", "green", "yellow", "red"]),
    ),
    st.sampled_from(
        [
            VerificationResult.invalid(Reason.EXPIRED),
            VerificationResult.invalid(Reason.BAD_SIGNATURE),
        ]
    ),
)
TEMPERATURES = st.one_of(
    st.builds(reading, st.just("normal"), st.floats(30.0, 40.0)),
    st.none(),
    st.builds(reading, st.sampled_from(["fever", "sensor_fault", "no_subject"]), st.none()),
)
FAULTED_PARTS = [
    Fault.CAMERA_FAULT,
    Fault.SENSOR_FAULT,
    Fault.INDICATOR_FAULT,
    Fault.RELAY_FAULT,
]
ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("scan"), CODES, TEMPERATURES),
        st.tuples(st.just("manual"), st.booleans(), TEMPERATURES),
        st.tuples(st.just("fault"), st.sampled_from(FAULTED_PARTS), st.booleans()),
        st.tuples(st.just("sink_fails"), st.booleans(), st.none()),
        st.tuples(st.just("relay_fails"), st.booleans(), st.none()),
        st.tuples(st.just("wait"), st.floats(0.0, 400.0), st.none()),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(actions=ACTIONS, manual_allowed=st.booleans(), fault_while_measuring=st.booleans())
def test_gate_opens_only_after_a_stored_pass(
    actions: list[tuple[str, object, object]], manual_allowed: bool, fault_while_measuring: bool
) -> None:
    world = World(fault_while_measuring=fault_while_measuring)
    policy = PolicySettings(manual_pass_allowed=manual_allowed)
    controller = GateController(
        policy=policy,
        devices=GateDevices(relay=world, thermometer=world, passage_input=None),
        events=Sink(world),
        clock=world.clock,
    )
    world.controller = controller
    for kind, first, second in actions:
        if kind == "scan":
            assert isinstance(first, VerificationResult)
            world.temperature = second  # type: ignore[assignment]
            world.presenting = ("camera", None)
            assert controller.handle_scan("camera", first, 1.0, world.clock.monotonic())
        elif kind == "manual":
            world.temperature = second  # type: ignore[assignment]
            world.presenting = ("manual", "button")
            assert controller.handle_manual("op-1" if first else "", "button", None)
        elif kind == "fault":
            assert isinstance(first, Fault)
            if second:
                controller.report_fault(first, "injected")
            else:
                controller.clear_fault(first)
        elif kind == "sink_fails":
            world.sink_fails = bool(first)
        elif kind == "relay_fails":
            world.relay_fails = bool(first)
        else:
            world.clock.advance(float(first))  # type: ignore[arg-type]

    assert world.pulses_while_faulted == 0
    for index, (entry, _) in enumerate(world.log):
        if entry == "pulse":
            previous = world.log[index - 1][1]
            assert previous is not None and previous.kind == "decision"
            assert previous.decision == "pass" and previous.reasons == ()
    for _, event in world.log:
        if event is not None and event.kind == "decision" and event.decision == "pass":
            temperature = event.temperature
            assert temperature is not None and temperature.state == "normal"
            assert temperature.estimate_c is not None
            assert temperature.estimate_c < policy.fever_threshold_c
            assert event.method == "manual" or event.colour == "green"
            assert event.method != "manual" or manual_allowed
