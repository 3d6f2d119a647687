"""The document reader's desk: cards at an idle gate are presentations, others go to the match."""

from __future__ import annotations

import threading

from edge.clock import SystemClock
from edge.errors import SerialDeviceError
from edge.platform.desk import DocumentDesk
from edge.sim.rig import SimDocumentReader


class _FailingReader:
    def __init__(self) -> None:
        self.calls = 0

    def read_line(self, timeout_s: float) -> str | None:
        self.calls += 1
        raise SerialDeviceError("document reader unplugged")

    def close(self) -> None:
        pass


def test_lines_are_routed_by_whether_a_presentation_runs() -> None:
    reader = SimDocumentReader()
    busy = [False]
    cards: list[str] = []
    desk = DocumentDesk(
        reader, SystemClock(), busy=lambda: busy[0], on_card=lambda line, at: cards.append(line)
    )
    reader.swipe("  150102194003150025 ")
    desk.step(0.0)
    assert cards == ["150102194003150025"]
    busy[0] = True
    reader.swipe("110105196211200034")
    reader.swipe("")
    desk.step(0.0)
    desk.step(0.0)
    assert cards == ["150102194003150025"]
    assert desk.identity_lines.read_line(0.0) == "110105196211200034"
    assert desk.identity_lines.read_line(0.0) is None


def test_a_failing_reader_is_announced_and_the_desk_keeps_running() -> None:
    reader = _FailingReader()
    faults: list[str] = []
    announced = threading.Event()

    def on_fault(detail: str) -> None:
        faults.append(detail)
        announced.set()

    desk = DocumentDesk(
        reader, SystemClock(), busy=lambda: False, on_card=lambda *_: None, on_fault=on_fault
    )
    desk.start()
    try:
        assert announced.wait(5)
    finally:
        desk.stop()
    assert faults[0] == "SerialDeviceError"


def test_the_identity_queue_keeps_the_newest_lines() -> None:
    desk = DocumentDesk(
        SimDocumentReader(), SystemClock(), busy=lambda: True, on_card=lambda *_: None
    )
    for number in range(40):
        desk.identity_lines.put(str(number))
    first = desk.identity_lines.read_line(0.0)
    assert first is not None and int(first) > 20
