"""Checks that the wall clock can be trusted for judging code expiry; a bad clock fails closed."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge.storage.files import write_atomically

log = logging.getLogger(__name__)

# No genuine code can have been issued before this software existed: an earlier wall clock means
# the board booted without a real-time clock and without network time.
EARLIEST_PLAUSIBLE_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z
# How far one reading may raise the mark beyond the time that passed since it was last raised.
MAX_MARK_STEP_S = 3600.0
_STA_UNSYNC = 0x0040
_STA_NANO = 0x2000
_TIME_ERROR = 5


@dataclass(frozen=True)
class ClockVerdict:
    """Whether the clock is usable, and what the kernel knows about its synchronisation."""

    usable: bool
    problem: str | None
    synchronized: bool | None
    max_error_ms: float | None
    offset_s: float | None = None


def judge_clock(
    now: float,
    latest_seen: float | None,
    skew_s: float,
    sync: tuple[bool, float, float] | None = None,
) -> ClockVerdict:
    """Pure judgement: implausibly early, or behind a time already recorded, means unusable.
    `sync` is what the kernel says (kernel_sync_state()), reported alongside."""
    problem = None
    if now < EARLIEST_PLAUSIBLE_EPOCH:
        problem = "wall clock is before 2026: not set"
    elif latest_seen is not None and now + skew_s < latest_seen:
        problem = f"wall clock is {latest_seen - now:.0f} s behind trusted time"
    synchronized, max_error_ms, offset_s = (None, None, None) if sync is None else sync
    return ClockVerdict(
        usable=problem is None,
        problem=problem,
        synchronized=synchronized,
        max_error_ms=max_error_ms,
        offset_s=offset_s,
    )


class _Timex(ctypes.Structure):
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long),
        ("time_usec", ctypes.c_long),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("padding", ctypes.c_int * 11),
    ]


def kernel_sync_state() -> tuple[bool, float, float] | None:
    """(synchronised, max error in ms, current offset in s) from the kernel's adjtimex."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        timex = _Timex()
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    synchronized = state != _TIME_ERROR and not timex.status & _STA_UNSYNC
    offset_s = timex.offset / (1e9 if timex.status & _STA_NANO else 1e6)
    return synchronized, timex.maxerror / 1000.0, offset_s


class ClockWatch:
    """Keeps a high-water mark of trusted wall time on disk and judges the clock against it.

    The mark is only raised from a clock the kernel calls synchronised, and by at most the
    monotonic time since it was last raised plus `max_step_s` per reading, so one bogus reading
    (a manual `date -s 2100`, which also marks the clock unsynchronised) cannot lock the gate.
    A synchronised clock that reads below the mark wins: the mark is lowered to it (logged), so
    a bogus mark clears as soon as network time is back. An unsynchronised clock below the mark
    (a board that booted without RTC and without network) is unusable.
    """

    def __init__(
        self,
        mark_path: Path,
        skew_s: float,
        *,
        read_sync: Callable[[], tuple[bool, float, float] | None] | None = None,
        max_step_s: float = MAX_MARK_STEP_S,
    ) -> None:
        self._path, self._skew_s = mark_path, skew_s
        self._read_sync = read_sync
        self._max_step_s = max_step_s
        self._raised: tuple[float, float] | None = None  # (mark, monotonic when it was set)

    def check(self, now: float, monotonic: float) -> ClockVerdict:
        """Judge `now`; a synchronised clock advances (or corrects) the mark."""
        sync = self._read_sync() if self._read_sync is not None else kernel_sync_state()
        mark = self._read()
        verdict = judge_clock(now, mark, self._skew_s, sync)
        if verdict.synchronized is not True or now < EARLIEST_PLAUSIBLE_EPOCH:
            return verdict
        if mark is not None and now + self._skew_s < mark:
            log.warning(
                "synchronised clock is %.0f s behind the clock mark: the mark was set from a "
                "wrong time and is lowered to the clock",
                mark - now,
            )
            self._write(now, monotonic)
            return judge_clock(now, now, self._skew_s, sync)
        if mark is None:
            self._write(now, monotonic)
            return verdict
        if self._raised is None or self._raised[0] != mark:
            self._raised = (mark, monotonic)  # mark written before this process started
        base, since = self._raised
        limit = base + max(0.0, monotonic - since) + self._max_step_s
        if now > mark:
            self._write(min(now, limit), monotonic)
        return verdict

    def _read(self) -> float | None:
        try:
            value = float(self._path.read_text().strip())
        except (OSError, ValueError):
            return None
        return value if math.isfinite(value) else None

    def _write(self, mark: float, monotonic: float) -> None:
        text = f"{mark:.3f}\n"
        try:
            write_atomically(self._path, text.encode())
        except OSError as exc:
            log.warning("clock mark not written: %s", exc)
            return
        self._raised = (float(text), monotonic)
