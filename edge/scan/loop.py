"""The scan loop: newest frame, skip if idle and unchanged, decode, debounce, verify."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from edge.clock import Clock
from edge.credentials.result import VerificationResult
from edge.errors import CameraError
from edge.ports import FrameSource, GrayFrame, LineSource, ReconnectingLineSource
from edge.reasons import Reason
from edge.scan.chain import DecoderChain, unread_regions
from edge.scan.decoders import Quad
from edge.scan.frames import thumbnail
from edge.scan.preprocess import to_gray
from edge.scan.repeats import RepeatWindow
from edge.scan.result import ScanComponent, ScanFault, ScanResult, ScanSource
from edge.scan.settings import ScanSettings
from edge.scan.stats import LoopStats

log = logging.getLogger(__name__)

Verify = Callable[[str], VerificationResult]
FAULT_RETRY_S = 1.0
# A held, already-reported code is re-read at least every this many frames even if the picture
# looks the same, so a phone switching to another code in place is noticed within a few frames.
MAX_HELD_SKIPS = 4
# A scene where the decoder located a symbol it could not read is not skipped as unchanged (empty,
# or holding a code already read) for this many frames: each names the next fallback round, so a
# hard code held still meets every round at least once; a code-like pattern in the background
# costs no more.
MAX_LOCATED_RETRIES = 8


class ScanLoop:
    """Turns camera frames (and optional serial scanner lines) into verified ScanResults."""

    name = "scan"

    # One keyword per optional source and per report, each named where the gate is wired.
    def __init__(  # noqa: PLR0913
        self,
        verify: Verify,
        settings: ScanSettings,
        clock: Clock,
        *,
        frames: FrameSource | None = None,
        lines: LineSource | None = None,
        chain: DecoderChain | None = None,
        on_result: Callable[[ScanResult], None] | None = None,
        on_fault: Callable[[ScanFault], None] | None = None,
        on_recover: Callable[[ScanComponent], None] | None = None,
    ) -> None:
        """`on_fault(fault)`: a source failed (the fault names its component and reads
        "camera: ..." or "serial scanner: ..."). `on_recover(component)`: a source that had
        failed delivers again; called once per recovery."""
        self._verify = verify
        self._settings = settings
        self._clock = clock
        self._frames = frames
        self._lines = lines
        self._chain = chain or DecoderChain(
            settings.frame_budget_ms, fallbacks=settings.fallbacks, scale_budget=False
        )
        self._on_result = on_result
        self._on_fault = on_fault
        self._on_recover = on_recover
        self._debounce = RepeatWindow(settings.debounce_s)
        self._stats = LoopStats()
        self._reference: GrayFrame | None = None  # thumbnail of the last decoded frame
        self._empty: GrayFrame | None = None  # thumbnail of the last decoded frame with no code
        self._located: GrayFrame | None = None  # the scene whose located symbol is being retried
        self._located_retries = 0
        self._retrying = False  # the last decoded frame located a symbol it did not read
        self._idle = True  # the last decoded frame held no code
        self._held: list[str] = []  # texts of the last decoded frame, when it held codes
        self._held_skips = 0
        self._hint: Quad | None = None
        self._round = 0  # whole-frame fallback rounds are spread over consecutive frames
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._targets: dict[str, Callable[[], None]] = {}
        if frames is not None:
            self._targets["scan-camera"] = self._run_camera
        if lines is not None:
            self._targets["scan-serial"] = self._run_serial
        self._frames_read = 0
        started = clock.monotonic()
        self._beats: dict[str, float] = {"camera": started, "serial": started}

    # --- one step each, for tests and for the threads ---------------------------------------

    def step(self, timeout_s: float = 0.1) -> list[ScanResult]:
        """Take the newest frame (if any), decode it unless skipped; return the new results.

        Raises CameraError if the frame source failed."""
        if self._frames is None:
            return []
        got = self._frames.read(timeout_s)
        if got is None:
            return []
        frame_time, frame = got
        self._frames_read += 1
        self._stats.frame(frame_time)
        now = self._clock.monotonic()
        if now - frame_time > self._settings.max_frame_age_s:
            self._stats.count("stale_dropped")
            return []
        thumb = thumbnail(frame)
        skip = self._skip_reason(thumb, now)
        if skip is not None:
            self._stats.count(skip)
            return []
        self._reference = thumb
        outcome = self._chain.decode(to_gray(frame), self._hint, frame_rounds=[self._round])
        self._round += 1
        self._stats.decoded(outcome.ms)
        if outcome.faulted:
            self._stats.count("pass_faults", len(outcome.faulted))
        self._idle = not outcome.codes
        self._hint = outcome.codes[0].quad if outcome.codes else None
        self._held = [code.text for code in outcome.codes]
        self._held_skips = 0
        self._retrying = self._retry_located(thumb, located=bool(unread_regions(outcome)))
        if self._idle and not self._retrying:
            self._empty = thumb
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

    def _skip_reason(self, thumb: GrayFrame, now: float) -> str | None:
        """Why this frame need not be decoded (a counter name), or None to decode it.

        Skipped: the scene looks like the last frame decoded without a code (unchanged while
        idle, or back to that empty scene after a code left), or like the last decoded frame
        while every code it held is still inside its debounce window (it would be suppressed).
        Neither while a symbol located in the scene is being retried (`MAX_LOCATED_RETRIES`)."""
        if not self._settings.idle_skip:
            return None
        if self._empty is not None and self._similar(thumb, self._empty):
            return "idle_skipped"
        if (
            self._held
            and self._held_skips < MAX_HELD_SKIPS
            and not self._retrying
            and self._reference is not None
            and self._similar(thumb, self._reference)
            and all(self._debounce.suppresses(text, now) for text in self._held)
        ):
            self._held_skips += 1
            return "held_skipped"
        return None

    def _retry_located(self, thumb: GrayFrame, *, located: bool) -> bool:
        """Whether the next frames of this scene are decoded although they look unchanged: a
        symbol was located in it and not read, and it has not yet been retried
        `MAX_LOCATED_RETRIES` times."""
        if not located:
            self._located = None
            return False
        if self._located is None or not self._similar(thumb, self._located):
            self._located, self._located_retries = thumb, 0
        self._located_retries += 1
        return self._located_retries <= MAX_LOCATED_RETRIES

    def _similar(self, thumb: GrayFrame, reference: GrayFrame) -> bool:
        change = float(np.abs(thumb.astype(np.int16) - reference).mean())
        return change < self._settings.idle_diff_threshold

    def _admit(
        self, text: str, source: ScanSource, frame_time: float, decode_ms: float
    ) -> ScanResult | None:
        # The text is debounced first, so a code held in view is verified once per window; a
        # verified code is then debounced on its identity, since one code has several valid
        # texts and a re-encoded copy must count as the same code.
        now = self._clock.monotonic()
        if not self._debounce.admit(text, now):
            self._stats.count("duplicates")
            return None
        try:
            verification = self._verify(text)
        except Exception as exc:  # noqa: BLE001 - a verifier bug must deny, not kill the scanner
            log.error("verifier raised %s; treating the code as malformed", type(exc).__name__)
            verification = VerificationResult.invalid(Reason.MALFORMED)
        identity = verification.code_key
        if identity is not None and not self._debounce.admit(identity, now):
            self._stats.count("duplicates")
            return None
        self._stats.count("codes")
        return ScanResult(text, source, verification, frame_time, decode_ms)

    def heartbeat(self) -> float:
        """Monotonic time the least recent of the running source threads last went round (the
        construction time before start()): a watchdog probe for a stuck camera or serial loop."""
        beats = []
        if self._frames is not None:
            beats.append(self._beats["camera"])
        if self._lines is not None:
            beats.append(self._beats["serial"])
        return min(beats, default=max(self._beats.values()))

    def stats(self) -> dict[str, float]:
        """fps, decode_ms_p50, decode_ms_p95 and counters (frames, decoded, idle_skipped, ...)."""
        return self._stats.snapshot()

    # --- run until stopped ----------------------------------------------------------------------

    def start(self) -> None:
        """Run the camera (and serial) loops in background threads until stop()."""
        self._stop.clear()
        for name, target in self._targets.items():
            self._threads.append(threading.Thread(target=target, name=name))
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def alive(self) -> bool:
        """Every source thread started runs (True before start)."""
        return all(thread.is_alive() for thread in self._threads)

    def revive(self) -> None:
        """Start a fresh thread for each source thread that died (not after stop)."""
        if self._stop.is_set():
            return
        for index, thread in enumerate(self._threads):
            if not thread.is_alive():
                fresh = threading.Thread(target=self._targets[thread.name], name=thread.name)
                fresh.daemon = True
                self._threads[index] = fresh
                fresh.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the threads and wait for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def _run_camera(self) -> None:
        faulted = False
        while not self._stop.is_set():
            self._beats["camera"] = self._clock.monotonic()
            frames_before = self._frames_read
            try:
                results = self.step(0.2)
            except CameraError as exc:
                self._stats.count("faults")
                if not faulted:
                    self._fault(ScanFault(ScanComponent.CAMERA, str(exc)))
                faulted = True
                self._stop.wait(FAULT_RETRY_S)
                continue
            except Exception as exc:  # noqa: BLE001 - never let the thread die silently
                self._stats.count("faults")
                self._fault(
                    ScanFault(ScanComponent.CAMERA, f"scan loop error: {type(exc).__name__}: {exc}")
                )
                faulted = True
                self._stop.wait(FAULT_RETRY_S)
                continue
            if faulted and self._frames_read > frames_before:
                faulted = False
                self._recover(ScanComponent.CAMERA)
            self._deliver(results)

    def _run_serial(self) -> None:
        reported: str | None = None
        faulted = False
        while not self._stop.is_set():
            self._beats["serial"] = self._clock.monotonic()
            try:
                results = self.serial_step(0.2)
            except Exception as exc:  # noqa: BLE001 - never let the thread die silently
                self._stats.count("faults")
                reason = ScanFault(ScanComponent.SERIAL_SCANNER, f"{type(exc).__name__}: {exc}")
                if reason != reported:
                    self._fault(reason)
                reported, faulted = reason, True
                self._stop.wait(FAULT_RETRY_S)
                continue
            source: object = self._lines
            fault = source.fault if isinstance(source, ReconnectingLineSource) else None
            if fault is not None and fault != "not opened yet":
                failure = ScanFault(ScanComponent.SERIAL_SCANNER, fault)
                if failure != reported:
                    self._stats.count("faults")
                    self._fault(failure)
                reported, faulted = failure, True
            elif faulted and (fault is None or results):
                # the port is open and reading again (or a line arrived)
                reported, faulted = None, False
                self._recover(ScanComponent.SERIAL_SCANNER)
            self._deliver(results)

    def _deliver(self, results: list[ScanResult]) -> None:
        for result in results:
            if self._on_result is None:
                continue
            try:
                self._on_result(result)
            except Exception:
                log.exception("on_result callback failed")

    def _recover(self, source: ScanComponent) -> None:
        log.info("%s delivers again", source)
        if self._on_recover is None:
            return
        try:
            self._on_recover(source)
        except Exception:
            log.exception("on_recover callback failed")

    def _fault(self, reason: ScanFault) -> None:
        log.warning("%s", reason)
        if self._on_fault is None:
            return
        try:
            self._on_fault(reason)
        except Exception:
            log.exception("on_fault callback failed")
