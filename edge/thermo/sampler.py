"""Background sampling of an IR sensor into a bounded ring of timestamped samples or faults."""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from edge.clock import Clock
from edge.errors import GateEdgeError
from edge.thermo.settings import BodyTemperatureSettings

log = logging.getLogger(__name__)

# The thread never samples faster than this, whatever sample_interval_ms says.
MIN_BACKGROUND_INTERVAL_S = 0.01
# The ring holds this many times the samples of (freshness + measuring timeout).
RING_HEADROOM = 2
JOIN_TIMEOUT_S = 2.0
# Waits are timed on the injected clock, blocking in slices of at most this so that a new
# sample or a stop ends them at once.
WAIT_SLICE_S = 0.05

SampleKind = Literal["ok", "fault", "frozen"]


class TemperatureSensor(Protocol):
    """An IR sensor giving ambient and object temperatures; raises GateEdgeError on faults."""

    def ambient_c(self) -> float:
        """Read the ambient (die) temperature in °C; GateEdgeError on a fault."""
        ...

    def object_c(self) -> float:
        """Read the object (skin) temperature in °C; GateEdgeError on a fault."""
        ...


@runtime_checkable
class RawIrSensor(Protocol):
    """A sensor that also gives its raw IR word (used to notice a stuck sensor)."""

    def raw_ir(self) -> int:
        """Read the raw IR word of the object channel; one value for long means a stuck sensor."""
        ...


@dataclass(frozen=True)
class Sample:
    """One sample attempt: both temperatures, or a fault marker saying what went wrong."""

    seq: int
    at: float
    kind: SampleKind
    object_c: float | None = None
    ambient_c: float | None = None
    fault: str = ""
    presence: bool | None = None  # the lane sensor at sampling time, where one is used


@dataclass(frozen=True)
class SamplerStats:
    """What telemetry shows about the sampler."""

    running: bool
    state: Literal["idle", "ok", "fault"]
    last_object_c: float | None
    last_ambient_c: float | None
    samples: int
    faults: int
    last_fault: str
    last_attempt_at: float


class SensorSampler:
    """Reads ambient + object every sample interval into a ring; never raises on sensor faults.

    sample_once() takes one sample; the thread started by start() calls it in a loop, and tests
    call it directly to drive sampling deterministically on a FakeClock.
    """

    def __init__(
        self,
        sensor: TemperatureSensor,
        clock: Clock,
        settings: BodyTemperatureSettings,
        presence: Callable[[], bool] | None = None,
    ) -> None:
        self._sensor = sensor
        self._presence = presence
        # Only needed for stuck-sensor detection; sensors without a raw IR word skip it.
        self._read_raw_ir: Callable[[], int] | None = (
            sensor.raw_ir if isinstance(sensor, RawIrSensor) and settings.stuck_reads > 0 else None
        )
        self._clock = clock
        self.interval_s = settings.sample_interval_ms / 1000
        self._stuck_reads = settings.stuck_reads
        paced = max(self.interval_s, MIN_BACKGROUND_INTERVAL_S)
        span = settings.freshness_s + settings.timeout_s
        self.capacity = RING_HEADROOM * (math.ceil(span / paced) + settings.samples)
        self._ring: deque[Sample] = deque(maxlen=self.capacity)
        self._changed = threading.Condition()
        self._sensor_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = 0
        self._faults = 0
        self._last_reading: tuple[float, float, int | None] | None = None
        self._repeats = 0
        self._last_attempt_at = clock.monotonic()

    # ---- sampling -------------------------------------------------------------------------------

    def sample_once(self) -> Sample:
        """Read ambient then object once and record the sample or a fault marker."""
        with self._sensor_lock:
            try:
                ambient = self._sensor.ambient_c()
                obj = self._sensor.object_c()
                raw = int(self._read_raw_ir()) if self._read_raw_ir is not None else None
            except (GateEdgeError, OSError, ValueError) as exc:
                return self._record("fault", fault=f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # a driver bug must not stop sampling; it is a fault
                log.exception("unexpected error reading the thermometer")
                return self._record("fault", fault=f"{type(exc).__name__}: {exc}")
            present = None
            if self._presence is not None:
                try:
                    present = bool(self._presence())
                except Exception as exc:  # noqa: BLE001 - an input fault is a sampling fault
                    return self._record("fault", fault=f"presence input: {exc}")
            if self._frozen((ambient, obj, raw)):
                detail = f"sensor frozen: {self._repeats} identical readings"
                return self._record("frozen", obj, ambient, fault=detail)
            return self._record("ok", obj, ambient, presence=present)

    def _frozen(self, reading: tuple[float, float, int | None]) -> bool:
        """Identical readings `stuck_reads` times running. With the sensor's raw IR word in the
        reading (its ADC noise is many LSB) a steady scene never looks frozen; temperatures alone
        at 0.02 K resolution can repeat by chance."""
        if self._last_reading == reading:
            self._repeats += 1
        else:
            self._last_reading = reading
            self._repeats = 1
        return self._stuck_reads > 0 and self._repeats >= self._stuck_reads

    def _record(
        self,
        kind: SampleKind,
        obj: float | None = None,
        ambient: float | None = None,
        *,
        fault: str = "",
        presence: bool | None = None,
    ) -> Sample:
        with self._changed:
            previous = self._ring[-1] if self._ring else None
            self._seq += 1
            now = self._clock.monotonic()
            sample = Sample(self._seq, now, kind, obj, ambient, fault, presence)
            self._ring.append(sample)
            self._last_attempt_at = now
            if kind != "ok":
                self._faults += 1
            self._changed.notify_all()
        changed = previous is None or previous.kind != kind
        if kind == "fault" and (changed or (previous is not None and previous.fault != fault)):
            log.warning("thermometer sample failed: %s", fault)
        elif kind == "frozen" and changed:
            log.warning("thermometer %s", fault)
        elif kind == "ok" and previous is not None and previous.kind != "ok":
            log.info("thermometer samples are good again")
        return sample

    # ---- reading the ring -----------------------------------------------------------------------

    def recent(self, after_seq: int, since: float) -> list[Sample]:
        """Samples newer than sequence number `after_seq` and taken after monotonic `since`."""
        with self._changed:
            return [s for s in self._ring if s.seq > after_seq and s.at > since]

    def last_seq(self) -> int:
        """The sequence number of the latest sample (0 before the first)."""
        with self._changed:
            return self._seq

    def wait_newer(self, seq: int, timeout_s: float) -> bool:
        """Wait up to timeout_s on the clock for a sample after `seq`; True if there is one."""
        deadline = self._clock.monotonic() + max(0.0, timeout_s)
        with self._changed:
            while self._seq <= seq:
                remaining = deadline - self._clock.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, WAIT_SLICE_S))
            return True

    def last_attempt_at(self) -> float:
        """Monotonic time of the latest sample attempt (creation time before the first)."""
        with self._changed:
            return self._last_attempt_at

    # ---- the thread -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Tell whether the sampling thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start the sampling thread (no-op if it is running)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="thermo-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the sampling thread; returns once it has ended (or after a bounded wait)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval_s + JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.error("thermometer sampler did not stop (sensor read hanging?)")

    def _run(self) -> None:
        interval = max(self.interval_s, MIN_BACKGROUND_INTERVAL_S)
        log.info("thermometer sampling every %.0f ms", interval * 1000)
        while not self._stop.is_set():
            began = self._clock.monotonic()
            try:
                self.sample_once()
            except Exception:  # never let the sampler die; sample_once records sensor faults
                log.exception("thermometer sampler error")
            self._pause_until(began + interval)

    def _pause_until(self, next_at: float) -> None:
        """Wait on the clock until monotonic next_at (at least a moment), or until stopped."""
        self._stop.wait(MIN_BACKGROUND_INTERVAL_S / 10)
        while not self._stop.is_set():
            remaining = next_at - self._clock.monotonic()
            if remaining <= 0:
                return
            self._stop.wait(min(remaining, WAIT_SLICE_S))

    # ---- telemetry ------------------------------------------------------------------------------

    def stats(self) -> SamplerStats:
        """Running state, the latest temperatures and fault counts."""
        with self._changed:
            last = self._ring[-1] if self._ring else None
            good = next((s for s in reversed(self._ring) if s.kind == "ok"), None)
            faulty = next((s for s in reversed(self._ring) if s.kind != "ok"), None)
            state: Literal["idle", "ok", "fault"] = "idle"
            if last is not None:
                state = "ok" if last.kind == "ok" else "fault"
            return SamplerStats(
                running=self.running,
                state=state,
                last_object_c=good.object_c if good else None,
                last_ambient_c=good.ambient_c if good else None,
                samples=self._seq,
                faults=self._faults,
                last_fault=faulty.fault if faulty else "",
                last_attempt_at=self._last_attempt_at,
            )
