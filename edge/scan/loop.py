"""The scan loop: newest frame, skip if idle and unchanged, decode, debounce, verify."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import cv2
import numpy as np

from edge.clock import Clock
from edge.codes.result import VerificationResult
from edge.drivers.interfaces import FrameSource, GrayFrame, LineSource
from edge.errors import CameraError
from edge.scan.chain import DecoderChain
from edge.scan.decoders import Quad
from edge.scan.result import ScanResult, ScanSource
from edge.scan.settings import ScanSettings
from edge.scan.stats import LoopStats

log = logging.getLogger(__name__)

Verify = Callable[[str], VerificationResult]
THUMB_SIZE = (32, 18)  # 16:9, a few hundred pixels: differencing costs microseconds
FAULT_RETRY_S = 1.0


def thumbnail(gray: GrayFrame) -> GrayFrame:
    """A tiny copy of the frame for change detection (sparse samples, then averaged)."""
    step = max(1, min(gray.shape[0] // (THUMB_SIZE[1] * 4), gray.shape[1] // (THUMB_SIZE[0] * 4)))
    sparse = np.ascontiguousarray(gray[::step, ::step])
    return np.asarray(cv2.resize(sparse, THUMB_SIZE, interpolation=cv2.INTER_AREA), dtype=np.uint8)


class Debouncer:
    """Lets the same text through once per window (monotonic seconds)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def admit(self, text: str, now: float) -> bool:
        """True if `text` was not admitted within the window before `now`."""
        with self._lock:
            if len(self._last) > 256:
                self._last = {t: at for t, at in self._last.items() if now - at < self.window_s}
            last = self._last.get(text)
            if last is not None and now - last < self.window_s:
                return False
            self._last[text] = now
            return True


class ScanLoop:
    """Turns camera frames (and optional serial scanner lines) into verified ScanResults."""

    def __init__(
        self,
        verify: Verify,
        settings: ScanSettings,
        clock: Clock,
        *,
        frames: FrameSource | None = None,
        lines: LineSource | None = None,
        chain: DecoderChain | None = None,
        on_result: Callable[[ScanResult], None] | None = None,
        on_fault: Callable[[str], None] | None = None,
    ) -> None:
        self._verify = verify
        self._settings = settings
        self._clock = clock
        self._frames = frames
        self._lines = lines
        self._chain = chain or DecoderChain(settings.frame_budget_ms, fallbacks=settings.fallbacks)
        self._on_result = on_result
        self._on_fault = on_fault
        self._debounce = Debouncer(settings.debounce_s)
        self._stats = LoopStats()
        self._reference: GrayFrame | None = None  # thumbnail of the last decoded frame
        self._idle = True  # the last decoded frame held no code
        self._hint: Quad | None = None
        self._round = 0  # whole-frame fallback rounds are spread over consecutive frames
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- one step each, for tests and for the threads ---------------------------------------

    def step(self, timeout_s: float = 0.1) -> list[ScanResult]:
        """Take the newest frame (if any), decode it unless skipped; return the new results.

        Raises CameraError if the frame source failed."""
        if self._frames is None:
            return []
        got = self._frames.read(timeout_s)
        if got is None:
            return []
        frame_time, gray = got
        self._stats.frame(frame_time)
        if self._clock.monotonic() - frame_time > self._settings.max_frame_age_s:
            self._stats.count("stale_dropped")
            return []
        thumb = thumbnail(gray)
        if self._skippable(thumb):
            self._stats.count("idle_skipped")
            return []
        self._reference = thumb
        outcome = self._chain.decode(gray, self._hint, frame_rounds=[self._round])
        self._round += 1
        self._stats.decoded(outcome.ms)
        self._idle = not outcome.codes
        self._hint = outcome.codes[0].quad if outcome.codes else None
        results = []
        for code in outcome.codes:
            result = self._admit(code.text, "camera", frame_time, outcome.ms)
            if result is not None:
                results.append(result)
        return results

    def serial_step(self, timeout_s: float = 0.1) -> list[ScanResult]:
        """Take one line from the serial scanner module, if any; return the new result."""
        if self._lines is None:
            return []
        text = self._lines.read_line(timeout_s)
        if not text:
            return []
        result = self._admit(text, "serial", self._clock.monotonic(), 0.0)
        return [result] if result is not None else []

    def _skippable(self, thumb: GrayFrame) -> bool:
        if not (self._settings.idle_skip and self._idle) or self._reference is None:
            return False
        change = float(cv2.absdiff(thumb, self._reference).mean())
        return change < self._settings.idle_diff_threshold

    def _admit(
        self, text: str, source: ScanSource, frame_time: float, decode_ms: float
    ) -> ScanResult | None:
        if not self._debounce.admit(text, self._clock.monotonic()):
            self._stats.count("duplicates")
            return None
        self._stats.count("codes")
        try:
            verification = self._verify(text)
        except Exception as exc:  # noqa: BLE001 - a verifier bug must deny, not kill the scanner
            log.error("verifier raised %s; treating the code as malformed", type(exc).__name__)
            verification = VerificationResult.invalid("malformed")
        return ScanResult(text, source, verification, frame_time, decode_ms)

    def stats(self) -> dict[str, float]:
        """fps, decode_ms_p50, decode_ms_p95 and counters (frames, decoded, idle_skipped, ...)."""
        return self._stats.snapshot()

    # --- run until stopped ----------------------------------------------------------------------

    def start(self) -> None:
        """Run the camera (and serial) loops in background threads until stop()."""
        self._stop.clear()
        if self._frames is not None:
            self._threads.append(threading.Thread(target=self._run_camera, name="scan-camera"))
        if self._lines is not None:
            self._threads.append(threading.Thread(target=self._run_serial, name="scan-serial"))
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the threads and wait for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def _run_camera(self) -> None:
        faulted = False
        while not self._stop.is_set():
            try:
                results = self.step(0.2)
            except CameraError as exc:
                self._stats.count("faults")
                if not faulted:
                    self._fault(f"camera: {exc}")
                faulted = True
                self._stop.wait(FAULT_RETRY_S)
                continue
            except Exception as exc:  # noqa: BLE001 - never let the thread die silently
                self._stats.count("faults")
                self._fault(f"scan loop error: {type(exc).__name__}: {exc}")
                self._stop.wait(FAULT_RETRY_S)
                continue
            faulted = False
            self._deliver(results)

    def _run_serial(self) -> None:
        reported: str | None = None
        while not self._stop.is_set():
            try:
                results = self.serial_step(0.2)
            except Exception as exc:  # noqa: BLE001
                self._stats.count("faults")
                self._fault(f"serial scanner: {type(exc).__name__}: {exc}")
                self._stop.wait(FAULT_RETRY_S)
                continue
            fault = getattr(self._lines, "fault", None)  # readers that reconnect expose this
            if fault is not None and fault not in (reported, "not opened yet"):
                self._stats.count("faults")
                self._fault(f"serial scanner: {fault}")
            reported = fault
            self._deliver(results)

    def _deliver(self, results: list[ScanResult]) -> None:
        for result in results:
            if self._on_result is None:
                continue
            try:
                self._on_result(result)
            except Exception:
                log.exception("on_result callback failed")

    def _fault(self, reason: str) -> None:
        log.warning("%s", reason)
        if self._on_fault is None:
            return
        try:
            self._on_fault(reason)
        except Exception:
            log.exception("on_fault callback failed")
