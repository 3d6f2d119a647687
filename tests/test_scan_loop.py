"""The scan loop: newest frame only, idle skipping, debouncing, verification, faults, serial."""

from __future__ import annotations

import threading
from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge.clock import FakeClock
from edge.credentials.result import VerificationResult
from edge.drivers.camera_replay import ReplayFrameSource
from edge.errors import CameraError
from edge.ports import GrayFrame
from edge.reasons import Reason
from edge.scan.decoders import read_zxing
from edge.scan.frames import THUMB_SIZE, thumbnail
from edge.scan.loop import MAX_HELD_SKIPS, MAX_LOCATED_RETRIES, ScanLoop
from edge.scan.preprocess import to_gray
from edge.scan.repeats import RepeatWindow as Debouncer
from edge.scan.result import ScanResult
from edge.scan.settings import ScanSettings
from edge.sim.screens import ScreenStyle, render_scene
from tests.waiting import wait_until as _wait_for

CODE_A, CODE_B = "HC1:CODE-A-0001", "HC1:CODE-B-0002"


def _frame(text: str | None, seed: int = 0) -> GrayFrame:
    return to_gray(render_scene(text, ScreenStyle(code_width=260.0, noise_sigma=2.0), seed))


class Verifier:
    """Records what it was asked; green for codes starting HC1:."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, text: str) -> VerificationResult:
        self.seen.append(text)
        if text.startswith("HC1:"):
            return VerificationResult(valid=True, colour="green", issuer="test")
        return VerificationResult.invalid(Reason.MALFORMED)


def test_replay_returns_the_newest_frame_and_skips_stale_ones() -> None:
    clock = FakeClock()
    frames = [np.full((4, 4), i, np.uint8) for i in range(10)]
    source = ReplayFrameSource(frames, fps=10.0, loop=False, clock=clock)
    first = source.read(0.0)
    assert first is not None and first[1][0, 0] == 0
    clock.advance(0.55)  # frames 1..5 became due meanwhile
    got = source.read(0.0)
    assert got is not None and got[1][0, 0] == 5
    assert source.skipped == 4
    assert source.read(0.0) is None  # nothing newer yet; no queued backlog
    got = source.read(1.0)  # waits (on the fake clock) for the next one
    assert got is not None and got[1][0, 0] == 6


def test_loop_never_decodes_a_backlog() -> None:
    clock = FakeClock()
    frames = [_frame(CODE_A if i % 2 else None, i) for i in range(6)]
    source = ReplayFrameSource(frames, fps=10.0, loop=True, clock=clock)
    loop = ScanLoop(Verifier(), ScanSettings(idle_skip=False), clock, frames=source)
    loop.step(0.0)
    clock.advance(2.0)  # the loop stalled for 20 frame intervals
    loop.step(0.0)
    assert loop.stats()["frames"] == 2
    assert source.skipped == 19


def test_loop_drops_frames_older_than_the_limit() -> None:
    clock = FakeClock()

    class LateSource:
        def read(self, timeout_s: float) -> tuple[float, GrayFrame] | None:
            return clock.monotonic() - 2.0, _frame(CODE_A)

        def close(self) -> None:
            pass

    verifier = Verifier()
    loop = ScanLoop(verifier, ScanSettings(max_frame_age_s=0.5), clock, frames=LateSource())
    assert loop.step() == []
    assert loop.stats()["stale_dropped"] == 1
    assert verifier.seen == []


def test_loop_reports_once_per_debounce_window_and_verifies_each_new_code() -> None:
    clock = FakeClock()
    frames = [_frame(CODE_A, 1), _frame(CODE_A, 2), _frame(CODE_B, 3), _frame(CODE_A, 4)]
    source = ReplayFrameSource(frames, fps=10.0, loop=True, clock=clock)
    verifier = Verifier()
    loop = ScanLoop(verifier, ScanSettings(debounce_s=3.0), clock, frames=source)
    texts = []
    for _ in range(8):  # 0.8 s: two passes over the frames
        texts += [r.text for r in loop.step(0.0)]
        clock.advance(0.1)
    assert texts == [CODE_A, CODE_B]
    assert verifier.seen == [CODE_A, CODE_B]
    assert loop.stats()["duplicates"] >= 5
    clock.advance(3.0)
    later = []
    for _ in range(4):
        later += loop.step(0.0)
        clock.advance(0.1)
    assert sorted({r.text for r in later}) == [CODE_A, CODE_B]
    result = later[0]
    assert result.source == "camera" and result.verification.valid
    assert result.decode_ms > 0 and result.frame_time <= clock.monotonic()
    assert CODE_A not in repr(result) and CODE_B not in repr(result)


def test_idle_unchanged_frames_are_skipped_but_changes_are_decoded() -> None:
    clock = FakeClock()
    empty = _frame(None, 5)
    noisy = [
        np.clip(
            empty.astype(int) + np.random.default_rng(i).integers(-2, 3, empty.shape), 0, 255
        ).astype(np.uint8)
        for i in range(5)
    ]
    frames = [*noisy, _frame(CODE_A, 6), _frame(CODE_A, 6)]
    source = ReplayFrameSource(frames, fps=10.0, loop=False, clock=clock)
    loop = ScanLoop(Verifier(), ScanSettings(), clock, frames=source)
    results = []
    for _ in range(7):
        results += loop.step(0.0)
        clock.advance(0.1)
    stats = loop.stats()
    assert stats["idle_skipped"] == 4  # the first empty frame is decoded, its copies are not
    assert [r.text for r in results] == [CODE_A]
    # the second code frame looks the same and its code is still debounced: not decoded again
    assert stats["decoded"] == 2 and stats["held_skipped"] == 1


def test_held_code_is_reread_regularly_and_after_its_debounce_window() -> None:
    clock = FakeClock()
    held = _frame(CODE_A, 6)
    source = ReplayFrameSource([held] * 40, fps=10.0, loop=False, clock=clock)
    verifier = Verifier()
    loop = ScanLoop(verifier, ScanSettings(debounce_s=3.0), clock, frames=source)
    results = []
    for _ in range(40):
        results += loop.step(0.0)
        clock.advance(0.1)
    stats = loop.stats()
    # never more than MAX_HELD_SKIPS frames in a row go undecoded
    assert stats["decoded"] >= 40 // (MAX_HELD_SKIPS + 1)
    assert stats["held_skipped"] >= 20
    # once the window has passed the code is read and reported again
    assert [r.text for r in results] == [CODE_A, CODE_A]


def test_a_new_code_in_place_of_a_held_one_is_read_within_a_few_frames() -> None:
    clock = FakeClock()
    frames = [_frame(CODE_A, 6)] * 3 + [_frame(CODE_B, 6)] * 8
    source = ReplayFrameSource(frames, fps=10.0, loop=False, clock=clock)
    loop = ScanLoop(Verifier(), ScanSettings(debounce_s=30.0), clock, frames=source)
    texts = []
    for index in range(len(frames)):
        texts += [(index, r.text) for r in loop.step(0.0)]
        clock.advance(0.1)
    assert texts[0] == (0, CODE_A)
    assert texts[1][1] == CODE_B and texts[1][0] <= 3 + MAX_HELD_SKIPS
    assert loop.stats()["held_skipped"] >= 1  # the swap did look like the same picture


def test_return_to_the_empty_scene_is_not_decoded_again() -> None:
    clock = FakeClock()
    empty, code = _frame(None, 5), _frame(CODE_A, 6)
    frames = [empty, empty, code, empty, empty]
    source = ReplayFrameSource(frames, fps=10.0, loop=False, clock=clock)
    loop = ScanLoop(Verifier(), ScanSettings(), clock, frames=source)
    for _ in frames:
        loop.step(0.0)
        clock.advance(0.1)
    stats = loop.stats()
    assert stats["decoded"] == 2 and stats["idle_skipped"] == 3


def _damaged(seed: int, beside: str | None = None) -> GrayFrame:
    """A code whose finder patterns survive but whose data area is scribbled over: the decoder
    locates it and cannot read it. `beside`: a readable code in the left half of the frame."""
    style = ScreenStyle(code_width=200.0, centre=(960.0, 360.0), noise_sigma=2.0)
    frame = to_gray(render_scene(CODE_B, style, 6))
    if beside is not None:
        readable = to_gray(render_scene(beside, replace(style, centre=(320.0, 360.0)), 7))
        frame[:, :640] = readable[:, :640]
    found = [code.quad for code in read_zxing(frame).codes if code.text == CODE_B]
    assert found
    xs, ys = [int(p[0]) for p in found[0]], [int(p[1]) for p in found[0]]
    side = max(xs) - min(xs)
    top, left, end = min(ys) + side * 3 // 10, min(xs) + side * 3 // 10, side // 20
    area = frame[top : max(ys) - end, left : max(xs) - end]
    scribble = np.random.default_rng(0).random(area.shape) < 0.5
    area[:] = np.where(scribble, 30, 220)
    noise = np.random.default_rng(seed).integers(-2, 3, frame.shape)
    return np.clip(frame.astype(int) + noise, 0, 255).astype(np.uint8)


def test_a_located_symbol_that_cannot_be_read_is_retried_then_its_scene_counts_as_empty() -> None:
    clock = FakeClock()
    frames = [_damaged(seed) for seed in range(MAX_LOCATED_RETRIES + 5)]
    source = ReplayFrameSource(frames, fps=10.0, loop=False, clock=clock)
    loop = ScanLoop(Verifier(), ScanSettings(), clock, frames=source)
    for _ in frames:
        assert loop.step(0.0) == []
        clock.advance(0.1)
    stats = loop.stats()
    # the same picture is decoded again (each time with the next fallback round) while a symbol
    # is located in it, then skipped as unchanged like any empty scene
    assert stats["decoded"] == MAX_LOCATED_RETRIES + 1
    assert stats["idle_skipped"] == 4


def test_a_held_code_is_decoded_again_while_a_symbol_beside_it_is_retried() -> None:
    clock = FakeClock()
    frames = [_damaged(seed, beside=CODE_A) for seed in range(MAX_LOCATED_RETRIES + 5)]
    source = ReplayFrameSource(frames, fps=10.0, loop=False, clock=clock)
    loop = ScanLoop(Verifier(), ScanSettings(debounce_s=30.0), clock, frames=source)
    results = []
    for _ in frames:
        results += loop.step(0.0)
        clock.advance(0.1)
    stats = loop.stats()
    assert [r.text for r in results] == [CODE_A]
    # not skipped as "holding a code already read" until the symbol beside it was retried
    assert stats["decoded"] == MAX_LOCATED_RETRIES + 1
    assert stats["held_skipped"] == 4


def test_verifier_exception_becomes_an_invalid_result() -> None:
    clock = FakeClock()

    def broken(text: str) -> VerificationResult:
        raise RuntimeError("bug")

    source = ReplayFrameSource([_frame(CODE_A)], fps=10.0, clock=clock)
    results = ScanLoop(broken, ScanSettings(), clock, frames=source).step(0.0)
    assert len(results) == 1 and not results[0].verification.valid
    assert results[0].verification.reason == "malformed"


def test_debouncer_window() -> None:
    debounce = Debouncer(1.0)
    assert debounce.admit("a", 10.0)
    assert not debounce.admit("a", 10.9)
    assert debounce.admit("b", 10.9)
    assert debounce.admit("a", 11.0)


def test_thread_reports_camera_faults_through_the_callback() -> None:
    clock = FakeClock()
    faults: list[str] = []
    failed = threading.Event()

    class DeadCamera:
        def read(self, timeout_s: float) -> tuple[float, GrayFrame] | None:
            raise CameraError("camera /dev/video0: no frames")

        def close(self) -> None:
            pass

    def on_fault(reason: str) -> None:
        faults.append(reason)
        failed.set()

    loop = ScanLoop(Verifier(), ScanSettings(), clock, frames=DeadCamera(), on_fault=on_fault)
    loop.start()
    assert failed.wait(5.0)
    loop.stop()
    assert faults[0].startswith("camera: camera /dev/video0")
    assert loop.stats()["faults"] >= 1


def test_thread_delivers_camera_and_serial_results_through_one_callback() -> None:
    clock = FakeClock()
    got: list[ScanResult] = []
    both = threading.Event()

    class OneLine:
        def __init__(self) -> None:
            self.lines = [CODE_B]

        def read_line(self, timeout_s: float) -> str | None:
            return self.lines.pop() if self.lines else None

        def close(self) -> None:
            pass

    def on_result(result: ScanResult) -> None:
        got.append(result)
        if len({r.source for r in got}) == 2:
            both.set()

    source = ReplayFrameSource([_frame(CODE_A)], fps=10.0, clock=clock)
    loop = ScanLoop(
        Verifier(), ScanSettings(), clock, frames=source, lines=OneLine(), on_result=on_result
    )
    loop.start()
    assert both.wait(10.0)
    loop.stop()
    by_source = {r.source: r.text for r in got}
    assert by_source == {"camera": CODE_A, "serial": CODE_B}


class FlakyCamera:
    """Fails `failures` reads, then delivers the same frame (fresh time) on every read."""

    def __init__(self, clock: FakeClock, failures: int) -> None:
        self.clock = clock
        self.failures = failures
        self.frame = _frame(None, 3)

    def read(self, timeout_s: float) -> tuple[float, GrayFrame] | None:
        if self.failures > 0:
            self.failures -= 1
            raise CameraError("camera /dev/video0: no frames")
        return self.clock.monotonic(), self.frame

    def close(self) -> None:
        pass


class FlakySerial:
    """A line source whose port fault is scripted: faulted, then open again."""

    def __init__(self) -> None:
        self.fault: str | None = "not opened yet"
        self.raise_next = False
        self.reads = 0

    def read_line(self, timeout_s: float) -> str | None:
        self.reads += 1
        if self.raise_next:
            self.raise_next = False
            raise OSError("device vanished")
        return None

    def close(self) -> None:
        pass


def test_camera_recovery_is_reported_once_after_a_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("edge.scan.loop.FAULT_RETRY_S", 0.01)
    clock = FakeClock()
    faults: list[str] = []
    recovered: list[str] = []
    loop = ScanLoop(
        Verifier(),
        ScanSettings(),
        clock,
        frames=FlakyCamera(clock, failures=3),
        on_fault=faults.append,
        on_recover=recovered.append,
    )
    loop.start()
    try:
        assert _wait_for(lambda: loop.stats()["frames"] >= 5)
    finally:
        loop.stop()
    assert faults == ["camera: camera /dev/video0: no frames"]  # one report per outage
    assert recovered == ["camera"]


def test_serial_faults_and_recovery_are_reported_with_their_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("edge.scan.loop.FAULT_RETRY_S", 0.01)
    clock = FakeClock()
    faults: list[str] = []
    recovered: list[str] = []
    serial = FlakySerial()
    loop = ScanLoop(
        Verifier(),
        ScanSettings(),
        clock,
        lines=serial,
        on_fault=faults.append,
        on_recover=recovered.append,
    )
    loop.start()
    try:
        assert _wait_for(lambda: serial.reads >= 3)
        assert faults == [] and recovered == []  # not opened yet is no fault
        serial.fault = "cannot open /dev/ttyACM0: no such device"
        assert _wait_for(lambda: len(faults) == 1)
        serial.fault = None
        assert _wait_for(lambda: recovered == ["serial_scanner"])
        serial.raise_next = True
        assert _wait_for(lambda: len(faults) == 2 and len(recovered) == 2)
    finally:
        loop.stop()
    assert all(reason.startswith("serial scanner") for reason in faults)
    assert "no such device" in faults[0] and "OSError" in faults[1]
    assert recovered == ["serial_scanner", "serial_scanner"]


def test_heartbeat_follows_the_running_threads_and_stops_with_them() -> None:
    clock = FakeClock()
    serial = FlakySerial()
    loop = ScanLoop(Verifier(), ScanSettings(), clock, lines=serial)
    assert loop.heartbeat() == clock.monotonic()
    clock.advance(50.0)
    loop.start()
    try:
        assert _wait_for(lambda: loop.heartbeat() == clock.monotonic())
    finally:
        loop.stop()
    clock.advance(50.0)
    assert clock.monotonic() - loop.heartbeat() >= 50.0  # a stopped loop looks stale


def test_colour_frames_are_converted_only_when_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    empty = render_scene(None, ScreenStyle(code_width=260.0, noise_sigma=2.0), 7)
    with_code = render_scene(CODE_A, ScreenStyle(code_width=260.0, noise_sigma=2.0), 8)
    frames = [empty, empty.copy(), empty.copy(), with_code, empty.copy()]
    assert all(frame.ndim == 3 for frame in frames)  # BGR, as the USB camera hands them out
    converted: list[tuple[int, ...]] = []

    def counting_to_gray(image: GrayFrame) -> GrayFrame:
        if image.shape[:2] == empty.shape[:2]:  # a whole frame, not a thumbnail's samples
            converted.append(image.shape)
        return to_gray(image)

    monkeypatch.setattr("edge.scan.loop.to_gray", counting_to_gray)
    source = ReplayFrameSource(frames, fps=10.0, loop=False, clock=clock)
    loop = ScanLoop(Verifier(), ScanSettings(), clock, frames=source)
    results = []
    for _ in range(len(frames)):
        results += loop.step(0.0)
        clock.advance(0.1)
    assert [r.text for r in results] == [CODE_A]
    stats = loop.stats()
    assert stats["idle_skipped"] == 3  # two unchanged empties, and the return to the empty scene
    assert converted == [(720, 1280, 3), (720, 1280, 3)]  # the first empty frame and the code


def test_thumbnails_of_a_colour_frame_and_its_gray_copy_agree() -> None:
    bgr = render_scene(CODE_A, ScreenStyle(code_width=260.0, noise_sigma=2.0), 9)
    difference = cv2.absdiff(thumbnail(bgr), thumbnail(to_gray(bgr)))
    assert int(difference.max()) <= 1
    assert thumbnail(bgr).shape == (18, 32)


@pytest.mark.parametrize("shape", [(720, 1280), (1080, 1920), (480, 640), (18, 32), (37, 61)])
def test_a_thumbnail_is_opencvs_area_resize_of_the_samples(shape: tuple[int, int]) -> None:
    noise = np.random.default_rng(shape[0]).integers(0, 256, shape, dtype=np.uint8)
    frame = np.asarray(cv2.GaussianBlur(noise, (0, 0), 2.0), dtype=np.uint8)
    step = max(1, min(shape[0] // (THUMB_SIZE[1] * 4), shape[1] // (THUMB_SIZE[0] * 4)))
    samples = np.ascontiguousarray(frame[::step, ::step])
    opencv = cv2.resize(samples, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    assert int(cv2.absdiff(thumbnail(frame), opencv).max()) <= 1  # float rounding only


def test_a_decoder_pass_that_raises_shows_in_the_loops_counters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from edge.scan import chain as chain_module  # noqa: PLC0415 - only this test reaches in

    def broken(gray: GrayFrame, scale: float, offset: tuple[float, float]) -> object:
        raise ValueError("a bug on an unusual frame")

    monkeypatch.setattr(chain_module, "ROUNDS", (((), ()), ((), (("broken", broken),))))
    clock = FakeClock()
    source = ReplayFrameSource([_frame(None, 1)], fps=10.0, loop=True, clock=clock)
    loop = ScanLoop(Verifier(), ScanSettings(idle_skip=False), clock, frames=source)
    for _ in range(4):  # the loop names the pass's round in every other frame
        loop.step(0.0)
        clock.advance(0.1)
    assert loop.stats()["frames"] == 4
    assert loop.stats()["pass_faults"] == 2
