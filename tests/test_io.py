"""Debounced inputs and indicator outputs: the real GPIO code on fake lines, and the fakes."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from edge.drivers.fake_gpio import FakeChip, FakeInput, FakeOutput
from edge.drivers.gpio_lines import Bias, Direction
from edge.drivers.io import GateIo, open_io
from edge.drivers.io_gpiod import Debouncer, GpiodInput
from edge.drivers.settings import IoSettings
from edge.errors import DriverError

SETTINGS = replace(
    IoSettings(),
    passage_line=5,
    manual_button_line=6,
    green_lamp_line=20,
    red_lamp_line=21,
    buzzer_line=22,
)


def test_debouncer_ignores_glitches_and_accepts_held_levels() -> None:
    debouncer = Debouncer(0.02)
    assert debouncer.update(raw=True, now=0.000) is False
    assert debouncer.update(raw=False, now=0.010) is False  # 10 ms glitch
    assert debouncer.update(raw=True, now=0.100) is False
    assert debouncer.update(raw=True, now=0.119) is False
    assert debouncer.update(raw=True, now=0.125) is True
    assert debouncer.update(raw=False, now=0.200) is True
    assert debouncer.update(raw=False, now=0.221) is False


def test_debouncer_with_zero_time_follows_the_input() -> None:
    debouncer = Debouncer(0.0)
    assert debouncer.update(raw=True, now=1.0) is True
    assert debouncer.update(raw=False, now=1.0) is False


def test_open_io_requests_inputs_and_inactive_outputs() -> None:
    chip = FakeChip()
    io = open_io(SETTINGS, gpio=chip)
    request = chip.requests[0]
    assert request.offsets == [5, 6, 20, 21, 22]
    assert request.settings[5].direction == Direction.INPUT
    assert request.settings[5].active_low is True
    assert request.settings[5].bias == Bias.PULL_UP
    assert request.settings[20].direction == Direction.OUTPUT
    assert [request.states(line) for line in (20, 21, 22)] == [[0], [0], [0]]
    io.close()
    assert request.released


def test_passage_input_is_seen_after_debounce() -> None:
    chip = FakeChip()
    io = open_io(replace(SETTINGS, debounce_ms=10, poll_ms=2), gpio=chip)
    assert io.passage is not None
    assert io.passage.is_active() is False
    assert io.passage.wait_for_active(0.05) is False
    chip.requests[0].drive(5, active=True)
    assert io.passage.wait_for_active(5.0) is True
    assert io.passage.is_active() is True
    io.close()


def test_activation_that_ended_is_still_reported_to_a_waiter() -> None:
    chip = FakeChip()
    io = open_io(replace(SETTINGS, debounce_ms=0, poll_ms=1), gpio=chip)
    button = io.manual_button
    assert isinstance(button, GpiodInput)
    request = chip.requests[0]
    request.drive(6, active=True)
    end = time.monotonic() + 5
    while button.activations == 0 and time.monotonic() < end:
        time.sleep(0.005)
    request.drive(6, active=False)
    assert button.activations == 1
    io.close()


def test_input_read_error_counts_as_inactive() -> None:
    class Failing:
        def get_value(self, line: int) -> object:
            raise OSError(5, "Input/output error")

    failing = GpiodInput(Failing(), 5, debounce_ms=0, poll_ms=1)  # type: ignore[arg-type]
    assert failing.wait_for_active(0.05) is False
    failing.close()


def test_outputs_switch_and_report_failures() -> None:
    chip = FakeChip()
    io = open_io(SETTINGS, gpio=chip)
    assert io.green_lamp is not None and io.buzzer is not None
    request = chip.requests[0]
    io.green_lamp.on()
    io.green_lamp.off()
    assert request.states(20) == [0, 1, 0]
    request.fail_set_value(1)
    with pytest.raises(DriverError, match="buzzer"):
        io.buzzer.on()
    io.close()


def test_unconfigured_lines_are_none_and_duplicates_refused() -> None:
    assert open_io(IoSettings()) == GateIo()
    with pytest.raises(DriverError, match="distinct"):
        open_io(replace(SETTINGS, buzzer_line=5))


def test_fake_backend_gives_controllable_fakes() -> None:
    io = open_io(replace(SETTINGS, backend="fake"))
    assert isinstance(io.manual_button, FakeInput)
    assert isinstance(io.red_lamp, FakeOutput)
    assert io.manual_button.wait_for_active(0.0) is False
    io.manual_button.press()
    assert io.manual_button.is_active() is False
    io.red_lamp.on()
    assert io.red_lamp.is_on
    io.close()
    assert not io.red_lamp.is_on


def test_fake_input_press_is_seen_by_a_waiting_thread() -> None:
    button = FakeInput()
    seen: list[bool] = []
    waiter = threading.Thread(target=lambda: seen.append(button.wait_for_active(5.0)))
    waiter.start()
    time.sleep(0.05)
    button.press()
    waiter.join()
    assert seen == [True]
