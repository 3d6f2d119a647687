"""Rolling figures of the scan: frame rate, decode time percentiles, event counts, costs."""

from __future__ import annotations

import threading
from collections import Counter, deque

# Weight of the newest measurement in a running cost: a dearer run counts much, a cheaper one
# little, so the estimate follows the slow end of what a step costs (its cost varies with the
# picture) and a step rarely overruns the time it was let into.
COST_RISE, COST_FALL = 0.5, 0.05


def followed_cost(known: float, measured: float) -> float:
    """The running cost `known` moved towards `measured`: fast when dearer, slowly when cheaper."""
    weight = COST_RISE if measured > known else COST_FALL
    return known + weight * (measured - known)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class LoopStats:
    """Thread-safe counters; frame rate over the last `window` frames."""

    def __init__(self, window: int = 300) -> None:
        self._lock = threading.Lock()
        self._frame_times: deque[float] = deque(maxlen=window)
        self._decode_ms: deque[float] = deque(maxlen=window)
        self._counts: Counter[str] = Counter()

    def frame(self, at: float) -> None:
        """A frame was taken from the source at monotonic time `at`."""
        with self._lock:
            self._frame_times.append(at)
            self._counts["frames"] += 1

    def decoded(self, ms: float) -> None:
        """A frame went through the decoder chain."""
        with self._lock:
            self._decode_ms.append(ms)
            self._counts["decoded"] += 1

    def count(self, name: str, amount: int = 1) -> None:
        """Bump a named counter."""
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, float]:
        """fps, decode_ms_p50/p95 and every counter."""
        with self._lock:
            times = list(self._frame_times)
            decode = list(self._decode_ms)
            counts = dict(self._counts)
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        out: dict[str, float] = {
            "fps": (len(times) - 1) / span if span > 0 else 0.0,
            "decode_ms_p50": percentile(decode, 0.5),
            "decode_ms_p95": percentile(decode, 0.95),
        }
        for name in ("frames", "decoded", "idle_skipped", "stale_dropped", "codes", "duplicates"):
            out[name] = float(counts.pop(name, 0))
        out.update({name: float(value) for name, value in counts.items()})
        return out
