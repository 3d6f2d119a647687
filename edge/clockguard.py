"""Checks that the wall clock can be trusted for judging code expiry; a bad clock fails closed."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# No genuine code can have been issued before this software existed: an earlier wall clock means
# the board booted without a real-time clock and without network time.
EARLIEST_PLAUSIBLE_EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z
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


def judge_clock(now: float, latest_seen: float | None, skew_s: float) -> ClockVerdict:
    """Pure judgement: implausibly early, or behind a time already recorded, means unusable."""
    sync = kernel_sync_state()
    facts = (None, None, None) if sync is None else sync
    if now < EARLIEST_PLAUSIBLE_EPOCH:
        return ClockVerdict(False, "wall clock is before 2026: not set", *facts)
    if latest_seen is not None and now + skew_s < latest_seen:
        behind = latest_seen - now
        return ClockVerdict(False, f"wall clock is {behind:.0f} s behind trusted time", *facts)
    return ClockVerdict(True, None, *facts)


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
    """Keeps a high-water mark of trusted wall time on disk and judges the clock against it."""

    def __init__(self, mark_path: Path, skew_s: float) -> None:
        self._path, self._skew_s = mark_path, skew_s

    def check(self, now: float) -> ClockVerdict:
        """Judge `now`; when the clock is usable, advance the mark."""
        verdict = judge_clock(now, self._read(), self._skew_s)
        if verdict.usable:
            self._write(now)
        return verdict

    def _read(self) -> float | None:
        try:
            return float(self._path.read_text().strip())
        except (OSError, ValueError):
            return None

    def _write(self, now: float) -> None:
        tmp = self._path.with_suffix(".tmp")
        try:
            tmp.write_text(f"{now:.3f}\n")
            os.replace(tmp, self._path)
        except OSError as exc:
            log.warning("clock mark not written: %s", exc)
