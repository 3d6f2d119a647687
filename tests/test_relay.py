"""The real relay code on fake GPIO lines: requested inactive, bounded pulses, release paths."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any, NoReturn

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.drivers.fake_gpio import FakeChip, FakeLineRequest
from edge.drivers.gpio_lines import Direction, Value
from edge.drivers.relay import open_relay
from edge.drivers.relay_gpiod import GpiodRelay
from edge.drivers.relay_pulse import MAX_PULSE_MS, PulsedRelay, clamp_pulse_ms, release_all
from edge.drivers.settings import RelaySettings
from edge.errors import RelayError

LINE = 17
# Scheduling slack allowed for the timer thread on a loaded 2-core machine.
SLACK_S = 0.25


def open_fake(**changes: Any) -> tuple[GpiodRelay, FakeLineRequest]:
    chip = FakeChip()
    relay = open_relay(replace(RelaySettings(backend="fake"), **changes), gpio=chip)
    assert isinstance(relay, GpiodRelay)
    return relay, chip.request_for(LINE)


def wait_released(relay: PulsedRelay, limit_s: float = 5.0) -> None:
    end = time.monotonic() + limit_s
    while relay.energised and time.monotonic() < end:
        time.sleep(0.01)
    assert not relay.energised


def on_time(request: FakeLineRequest) -> float:
    (t_on, on), (t_off, off) = request.history[LINE][1:3]
    assert (on, off) == (1, 0)
    return t_off - t_on


def test_line_is_requested_inactive_as_output_with_polarity() -> None:
    relay, request = open_fake(active_low=True)
    line_settings = request.settings[LINE]
    assert line_settings.direction == Direction.OUTPUT
    assert line_settings.output_value == Value.INACTIVE
    assert line_settings.active_low is True
    assert request.consumer == "gate-edge"
    assert request.states(LINE) == [0]
    relay.close()


def test_pulse_length_within_tolerance() -> None:
    relay, request = open_fake(pulse_ms=300)
    relay.pulse()
    wait_released(relay)
    request.assert_states_and_times(LINE, [(0.0, 0), (0.0, 1), (0.3, 0)], tolerance=SLACK_S)
    relay.close()


def test_pulse_is_clamped_to_the_minimum_and_the_cap() -> None:
    assert clamp_pulse_ms(10, MAX_PULSE_MS) == 100
    assert clamp_pulse_ms(60_000, MAX_PULSE_MS) == MAX_PULSE_MS
    relay, request = open_fake(max_pulse_ms=150)
    relay.pulse(60_000)
    window = relay.scheduled_window
    assert window is not None and window[1] - window[0] == pytest.approx(0.15)
    wait_released(relay)
    assert 0.15 - 0.005 <= on_time(request) <= 0.15 + SLACK_S
    relay.close()


def test_overlapping_pulses_never_pass_the_cap_from_the_first_energise() -> None:
    relay, request = open_fake(pulse_ms=200, max_pulse_ms=1000)
    relay.pulse()
    for _ in range(3):
        time.sleep(0.1)
        relay.pulse(2000)
    wait_released(relay)
    assert request.states(LINE) == [0, 1, 0]  # one continuous pulse, no re-trigger
    assert 1.0 - 0.005 <= on_time(request) <= 1.0 + SLACK_S
    relay.close()


class SteppedTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class StepClock:
    """A Clock reading a SteppedTime: time moves only when the test sets `now`."""

    def __init__(self, time: SteppedTime) -> None:
        self._time = time

    def now(self) -> float:
        return self._time.now

    def monotonic(self) -> float:
        return self._time.now

    def sleep(self, seconds: float) -> None:
        self._time.now += max(0.0, seconds)


@settings(max_examples=200, deadline=None)
@given(
    cap_ms=st.integers(100, 2000),
    requests=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(-100, 5000)), max_size=20),
)
def test_schedule_never_exceeds_the_cap(cap_ms: int, requests: list[tuple[float, int]]) -> None:
    clock = SteppedTime()
    levels: list[int] = []
    relay = PulsedRelay(
        lambda: levels.append(1),
        lambda: levels.append(0),
        cap_ms=cap_ms,
        min_off_ms=0,
        off_ratio=0.0,
        clock=StepClock(clock),
    )
    try:
        for gap_s, duration_ms in requests:
            clock.now += gap_s
            window = relay.scheduled_window
            if window is not None and clock.now >= window[1]:
                relay.release()  # what the timer thread does when the time has come
            relay.pulse(duration_ms)
            first, off_at = relay.scheduled_window or (0.0, 0.0)
            assert off_at - first <= cap_ms / 1000 + 1e-9
            assert off_at >= min(first + cap_ms / 1000, clock.now + 0.1) - 1e-9
    finally:
        relay.close()
    assert levels[-1] == 0


def test_energise_failure_raises_relay_error_and_leaves_the_line_off() -> None:
    relay, request = open_fake()
    request.fail_set_value(1)
    with pytest.raises(RelayError, match="energise failed"):
        relay.pulse()
    assert not relay.energised
    assert request.states(LINE) == [0]
    relay.close()


def test_release_failure_is_retried_by_the_timer() -> None:
    relay, request = open_fake(pulse_ms=100)
    relay.pulse()
    request.fail_set_value(3)  # the first releases fail, as a flaky chip might
    wait_released(relay)
    assert request.states(LINE) == [0, 1, 0]
    relay.close()


def test_release_now_and_close_free_the_line() -> None:
    relay, request = open_fake()
    relay.pulse(2000)
    relay.release()
    assert request.states(LINE) == [0, 1, 0]
    relay.pulse(2000)
    relay.close()
    assert request.states(LINE) == [0, 1, 0, 1, 0]
    assert request.released
    with pytest.raises(RelayError, match="closed"):
        relay.pulse()


def test_context_manager_releases_on_exception() -> None:
    chip = FakeChip()
    with pytest.raises(KeyError), GpiodRelay.open("/dev/gpiochip0", LINE, backend=chip) as relay:
        relay.pulse(2000)
        raise KeyError("boom")
    assert chip.request_for(LINE).states(LINE) == [0, 1, 0]
    assert chip.request_for(LINE).released


def test_release_all_releases_every_open_relay() -> None:
    first, first_request = open_fake()
    second, second_request = open_fake()
    first.pulse(2000)
    second.pulse(2000)
    release_all()
    assert first_request.states(LINE)[-1] == 0
    assert second_request.states(LINE)[-1] == 0
    first.close()
    second.close()


def test_request_failure_is_a_relay_error() -> None:
    class NoChip:
        def request_lines(self, *args: object, **kwargs: object) -> NoReturn:
            raise FileNotFoundError(2, "No such file or directory", "/dev/gpiochip9")

    with pytest.raises(RelayError, match="cannot request"):
        open_relay(RelaySettings(chip="/dev/gpiochip9"), gpio=NoChip())


def test_concurrent_pulses_from_threads_stay_one_bounded_pulse() -> None:
    relay, request = open_fake(pulse_ms=100, max_pulse_ms=300)
    threads = [threading.Thread(target=relay.pulse, args=(2000,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_released(relay)
    assert request.states(LINE) == [0, 1, 0]
    assert on_time(request) <= 0.3 + SLACK_S
    relay.close()


def test_a_stream_of_requests_cannot_hold_the_relay_on() -> None:
    relay, request = open_fake(pulse_ms=200, max_pulse_ms=200)
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        relay.pulse()  # a runaway caller: a request every 10 ms
        time.sleep(0.01)
    wait_released(relay)
    relay.close()
    changes = request.history[LINE][1:]
    assert [level for _, level in changes[:4]] == [1, 0, 1, 0]  # separate pulses, not one hold
    on_s = off_s = 0.0
    for (t_on, _), (t_off, _), (t_next, _) in zip(
        changes[0::2], changes[1::2], changes[2::2], strict=False
    ):
        on_s += t_off - t_on
        off_s += t_next - t_off
        assert t_next - t_off >= max(0.1, t_off - t_on) - 0.005  # off at least as long as on
    assert on_s <= off_s + 0.01


def test_a_single_pulse_after_a_pause_is_not_delayed() -> None:
    relay, request = open_fake(pulse_ms=100, max_pulse_ms=100)
    relay.pulse()
    wait_released(relay)
    time.sleep(0.25)  # longer than the off time the first pulse asked for
    asked = time.monotonic()
    relay.pulse()
    wait_released(relay)
    relay.close()
    second_on = request.history[LINE][3][0]
    assert second_on - asked < 0.09  # a fixed 100 ms wait before every pulse would fail this
