"""Benchmark: the whole scan loop on generated 1280x720 frames beside a naive loop.

The naive loop runs pyzbar on every full BGR frame. Our loop gets the same BGR frames from a
frame source that hands them out as the USB camera driver does; the loop judges each from a sparse
thumbnail and converts to grayscale only the frames it decodes, so that cost is counted.
Usage: python bench/loop.py [--quick] [--codes N] [--difficulty 0..1] [--hold N] [--blank N]
The default mix (2 s without a code, then a code held for 0.5 s, at 30 fps) resembles a gate
with a person every few seconds; the throughput ratio depends on that mix, so both frame kinds
are also reported separately.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.clock import SystemClock
from edge.credentials.result import VerificationResult
from edge.ports import Frame
from edge.scan.loop import ScanLoop
from edge.scan.preprocess import to_gray
from edge.scan.settings import ScanSettings
from edge.sim.screens import BgrFrame, render_sequence


class BgrFrameSource:
    """Hands out the pre-rendered BGR frames one per read, as the USB camera driver does."""

    def __init__(self, frames: list[BgrFrame]) -> None:
        self._frames = frames
        self.index = 0

    def read(self, timeout_s: float) -> tuple[float, Frame] | None:
        """The next frame (cycling through the list) stamped now."""
        frame = self._frames[self.index % len(self._frames)]
        self.index += 1
        return time.monotonic(), frame

    def close(self) -> None:
        """Nothing to release: the frames live in memory."""
        pass


def accept_all(text: str) -> VerificationResult:
    """Admit every code: the bench times scanning, not verification."""
    return VerificationResult(valid=True, colour="green")


def pct(values: list[float], fraction: float) -> float:
    """The value at `fraction` (0..1) of `values`, nearest rank; 0.0 when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if values else 0.0


def main() -> int:
    """Run the scan loop over a rendered sequence of held-up codes and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds' smoke run")
    parser.add_argument("--codes", type=int, default=12, help="codes held up in the sequence")
    parser.add_argument("--difficulty", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hold", type=int, default=15, help="frames each code is held up")
    parser.add_argument(
        "--blank", type=int, default=60, help="frames without a code before each code"
    )
    args = parser.parse_args()
    count = 2 if args.quick else args.codes
    texts = [f"HC1:BENCH-{i:04d}-{'X' * (20 + 7 * i)}" for i in range(count)]
    started = time.perf_counter()
    sequence = render_sequence(
        texts,
        seed=args.seed,
        difficulty=args.difficulty,
        hold_frames=3 if args.quick else args.hold,
        blank_frames=6 if args.quick else args.blank,
    )
    print(f"rendered {len(sequence)} frames in {time.perf_counter() - started:.1f} s")
    frames = [frame for _, frame in sequence]
    labels = [label for label, _ in sequence]

    source = BgrFrameSource(frames)
    loop = ScanLoop(accept_all, ScanSettings(), SystemClock(), frames=source)
    ours_ms: list[float] = []
    ours_found: set[str] = set()
    for _ in frames:
        tick = time.perf_counter()
        results = loop.step(0.0)
        ours_ms.append((time.perf_counter() - tick) * 1000.0)
        ours_found.update(r.text for r in results)

    naive_ms: list[float] = []
    naive_found: set[str] = set()
    for frame in frames:
        tick = time.perf_counter()
        symbols = pyzbar.decode(frame, symbols=[ZBarSymbol.QRCODE])
        naive_ms.append((time.perf_counter() - tick) * 1000.0)
        naive_found.update(s.data.decode("utf-8", "replace") for s in symbols)

    idle = [ms for ms, label in zip(ours_ms, labels, strict=True) if label is None]
    code = [ms for ms, label in zip(ours_ms, labels, strict=True) if label is not None]
    stats = loop.stats()
    ours_total, naive_total = sum(ours_ms), sum(naive_ms)
    print(f"frames: {len(frames)} ({len(idle)} without a code, {len(code)} with one)")
    print(
        f"our loop : idle frame median {statistics.median(idle):.3f} ms p95 {pct(idle, 0.95):.3f} "
        f"ms; code frame median {statistics.median(code):.2f} ms p95 {pct(code, 0.95):.2f} ms; "
        f"{1000.0 * len(frames) / ours_total:.0f} frames/s; codes {len(ours_found)}/{count}"
    )
    print(
        f"           idle skipped {stats['idle_skipped']:.0f}, held skipped "
        f"{stats.get('held_skipped', 0.0):.0f}, decoded {stats['decoded']:.0f}, "
        f"decode p50 {stats['decode_ms_p50']:.2f} ms p95 {stats['decode_ms_p95']:.2f} ms"
    )
    convert_ms = []
    for frame in frames[:: max(1, len(frames) // 100)]:
        tick = time.perf_counter()
        to_gray(frame)
        convert_ms.append((time.perf_counter() - tick) * 1000.0)
    decoded = stats["decoded"]
    print(
        f"           where the time goes: BGR->gray {statistics.median(convert_ms):.3f} ms per "
        f"converted frame ({decoded:.0f} converted, "
        f"{decoded * statistics.median(convert_ms) / ours_total:.0%} of the time), decoding "
        f"{decoded * stats['decode_ms_p50'] / ours_total:.0%} (approx.)"
    )
    print(
        f"naive    : frame median {statistics.median(naive_ms):.2f} ms p95 "
        f"{pct(naive_ms, 0.95):.2f} ms; {1000.0 * len(frames) / naive_total:.1f} frames/s; "
        f"codes {len(naive_found & set(texts))}/{count}"
    )
    print(f"throughput ratio (ours / naive): {naive_total / ours_total:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
