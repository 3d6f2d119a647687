"""The controller's fault board pushes what the status shows; scan faults name their component."""

from __future__ import annotations

from edge.app.status_faults import StatusFaults
from edge.clock import FakeClock
from edge.core.fault_board import RECENT_FAULT_WINDOW_S, FaultBoard
from edge.events import GateEvent
from edge.faults import Fault
from edge.scan.result import ScanComponent, ScanFault


class Events:
    def __init__(self) -> None:
        self.emitted: list[GateEvent] = []

    def emit(self, event: GateEvent) -> None:
        self.emitted.append(event)


class Display:
    """The status document's fault calls, in order."""

    def __init__(self) -> None:
        self.faults: dict[str, str] = {}
        self.calls: list[tuple[str, ...]] = []

    def set_fault(self, name: str, detail: str) -> None:
        self.faults[name] = detail
        self.calls.append(("set", name, detail))

    def clear_fault(self, name: str) -> None:
        self.faults.pop(name, None)
        self.calls.append(("clear", name))


def _board() -> tuple[FaultBoard, FakeClock, list[dict[str, str]]]:
    clock = FakeClock()
    board = FaultBoard(Events(), clock)
    told: list[dict[str, str]] = []
    board.watch(told.append)
    return board, clock, told


def test_latching_and_clearing_a_fault_is_pushed_at_once() -> None:
    board, _, told = _board()
    board.report(Fault.RELAY_FAULT, "pulse failed")
    assert told[-1] == {"relay_fault": "pulse failed"}
    board.report(Fault.RELAY_FAULT, "pulse failed again")
    assert told[-1] == {"relay_fault": "pulse failed again"}
    board.clear(Fault.RELAY_FAULT)
    assert told == [{}, {"relay_fault": "pulse failed"}, {"relay_fault": "pulse failed again"}, {}]


def test_an_unchanged_report_is_not_pushed_again() -> None:
    board, _, told = _board()
    board.report(Fault.CLOCK_FAULT, "before 2026")
    board.report(Fault.CLOCK_FAULT, "before 2026")
    assert told == [{}, {"clock_fault": "before 2026"}]


def test_a_fault_of_one_presentation_is_pushed_and_leaves_after_its_window() -> None:
    board, clock, told = _board()
    board.announce(Fault.SENSOR_FAULT, "no answer")
    assert list(told[-1]) == ["sensor_fault"] and told[-1]["sensor_fault"].endswith("no answer")
    clock.advance(RECENT_FAULT_WINDOW_S - 1)
    board.expire()
    assert list(told[-1]) == ["sensor_fault"]
    assert board.recent() and list(board.recent()) == ["sensor_fault"]
    clock.advance(2)
    assert board.recent() == {}  # reading does not forget: expire() must still tell
    board.expire()
    assert told[-1] == {}


def test_a_failing_observer_leaves_the_board_working() -> None:
    board = FaultBoard(Events(), FakeClock())

    def broken(shown: dict[str, str]) -> None:
        raise RuntimeError("display gone")

    board.watch(broken)
    board.report(Fault.RELAY_FAULT, "pulse failed")
    assert board.active() == {"relay_fault": "pulse failed"}


def test_the_status_shows_board_and_platform_faults_and_only_those() -> None:
    display = Display()
    display.set_fault("trust_files", "bad signature")  # shown by the service itself
    status = StatusFaults(display)
    board, _, _ = _board()
    board.watch(status.show_board)
    board.report(Fault.CAMERA_FAULT, "camera: gone")
    status.show_platform({"platform_breaker": "fallback in use: https://p open"})
    assert display.faults == {
        "trust_files": "bad signature",
        "camera_fault": "camera: gone",
        "platform_breaker": "fallback in use: https://p open",
    }
    board.clear(Fault.CAMERA_FAULT)
    status.show_platform({})
    assert display.faults == {"trust_files": "bad signature"}
    status.show_platform({})
    assert display.calls[-1] == (
        "clear",
        "platform_breaker",
    )  # nothing shown twice or cleared twice


def test_a_scan_fault_reads_as_before_and_names_its_component() -> None:
    fault = ScanFault(ScanComponent.SERIAL_SCANNER, "port closed")
    assert fault == "serial scanner: port closed"
    assert fault.component is ScanComponent.SERIAL_SCANNER
    assert ScanFault(ScanComponent.CAMERA, "gone").component == "camera"
