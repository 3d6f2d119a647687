"""Benchmark: codes read per presentation (a phone held up for 0.5 s) by the live scan loop.

Each labelled photo, brought to camera size (longest side 1280 px), becomes 15 frames of a held
phone (bench/held_phone.py: shifts, rotation, scale and exposure drift, noise, motion blur, a
moving glare spot; seeded). The frames reach the service's own ScanLoop through a frame source
that behaves like the camera at 30 frames/s on a virtual clock: a frame that arrives while the
loop is still decoding is replaced by the next, and the real decoding time moves the clock on.
Baseline in the same run: plain zxing-cpp on every frame of the same presentations (a code counts
if any frame reads it). A second table compares the decoder chain on the stills at camera size.
With --ceiling, the most any frame could give: the decoder chain with no time limit on every frame
of each presentation that plain zxing-cpp leaves short (about 5 minutes more).
Usage: python bench/presentations.py [--dataset DIR] [--quick] [--seed N] [--half a|b] [--ceiling]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.decode import Sample, iter_samples, plain_zxing, score
from bench.held_phone import FPS, at_camera_size, presentation
from edge.clock import FakeClock
from edge.credentials.result import VerificationResult
from edge.ports import Frame, GrayFrame
from edge.scan.chain import ChainResult, DecoderChain
from edge.scan.decoders import Quad
from edge.scan.loop import ScanLoop
from edge.scan.preprocess import u8
from edge.scan.settings import ScanSettings
from edge.scan.stats import percentile

BLANK_FRAMES = 10  # the empty scene between two visitors (the first is decoded, the rest idle)


class CameraOnVirtualClock:
    """Hands out the frames of one presentation as a 30 frames/s camera would: the newest frame
    at the clock's time, never one already handed out; time runs on the bench's FakeClock."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._frames: list[Frame] = []
        self._start = 0.0
        self._next = 0
        self.taken: list[int] = []  # index of each frame handed out

    def present(self, frames: list[Frame]) -> None:
        """Start showing `frames`, the first at the clock's current time."""
        self._frames, self._start, self._next = frames, self._clock.monotonic(), 0
        self.taken = []

    def read(self, timeout_s: float) -> tuple[float, Frame] | None:
        """The newest frame not yet handed out at the clock's time; None after the last one."""
        elapsed = self._clock.monotonic() - self._start
        index = max(self._next, int(elapsed * FPS + 1e-9))
        if index >= len(self._frames):
            return None
        arrival = self._start + index / FPS
        if arrival > self._clock.monotonic():
            self._clock.advance(arrival - self._clock.monotonic())
        self._next = index + 1
        self.taken.append(index)
        return arrival, self._frames[index]

    def close(self) -> None:
        """Nothing to release: the frames live in memory."""
        pass


class TimedChain(DecoderChain):
    """The service's decoder chain, recording each frame's decoding time."""

    def __init__(self, budget_ms: float) -> None:
        super().__init__(budget_ms, scale_budget=False)
        self.ms: list[float] = []

    def decode(
        self,
        gray: GrayFrame,
        hint: Quad | None = None,
        frame_rounds: Sequence[int] | None = None,
    ) -> ChainResult:
        """Decode as the service does and note the frame's decoding time."""
        result = super().decode(gray, hint, frame_rounds=frame_rounds)
        self.ms.append(result.ms)
        return result


def accept_all(text: str) -> VerificationResult:
    """Admit every code: the bench times scanning, not verification."""
    return VerificationResult(valid=True, colour="green")


@dataclass
class Reach:
    """One reader's codes and frames-to-first-read over the presentations, by category."""

    codes: int = 0
    first_frames: list[int] = field(default_factory=list)
    by_category: dict[str, int] = field(default_factory=dict)
    by_half: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, sample: Sample, half: int, points: int, first: int | None) -> None:
        """Count one presentation's points and, when read, the frames it took."""
        self.codes += points
        self.by_category[sample.category] = self.by_category.get(sample.category, 0) + points
        self.by_half[half] += points
        if first is not None:
            self.first_frames.append(first)


@dataclass
class Figures:
    """Everything one run measures."""

    loop: Reach = field(default_factory=Reach)
    zxing: Reach = field(default_factory=Reach)
    still_chain: Reach = field(default_factory=Reach)
    still_zxing: Reach = field(default_factory=Reach)
    capacity: Reach = field(default_factory=Reach)
    ceiling: Reach | None = None  # the chain with no time limit on every frame, when asked
    zxing_ms: list[float] = field(default_factory=list)
    idle_ms: list[float] = field(default_factory=list)
    loop_ms: list[float] = field(default_factory=list)
    taken: int = 0
    offered: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    rows: list[tuple[str, int, int, int]] = field(default_factory=list)  # photo, codes, loop, zx


def _bgr(gray: GrayFrame) -> Frame:
    return np.asarray(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def _blank_scene(rng: np.random.Generator) -> list[Frame]:
    spots = rng.uniform(60, 200, (720, 1280)).astype(np.float32)
    light = np.asarray(cv2.GaussianBlur(spots, (0, 0), 60), dtype=np.float32)
    frames = []
    for _ in range(BLANK_FRAMES):
        noisy = light + rng.normal(0.0, 3.0, light.shape)
        frames.append(_bgr(u8(np.clip(noisy, 0, 255))))
    return frames


def _first_read(sample: Sample, reads: list[list[str]]) -> int | None:
    for index, texts in enumerate(reads):
        if score(sample, texts) > 0:
            return index + 1
    return None


def _through_loop(
    loop: ScanLoop,
    source: CameraOnVirtualClock,
    clock: FakeClock,
    grays: list[GrayFrame],
    figures: Figures,
) -> list[list[str]]:
    """One presentation through the live loop: the texts read from each frame it took."""
    source.present([_bgr(gray) for gray in grays])
    counters = loop.stats()
    reads: list[list[str]] = [[] for _ in grays]
    while True:
        before = len(source.taken)
        started = time.perf_counter()
        results = loop.step(0.0)
        elapsed = time.perf_counter() - started
        if len(source.taken) == before:
            break
        clock.advance(elapsed)
        reads[source.taken[-1]].extend(result.text for result in results)
    figures.taken += len(source.taken)
    after = loop.stats()
    for counter in ("idle_skipped", "held_skipped"):
        skipped = int(after.get(counter, 0.0) - counters.get(counter, 0.0))
        figures.skipped[counter] = figures.skipped.get(counter, 0) + skipped
    return reads


def _idle_scene(
    loop: ScanLoop,
    source: CameraOnVirtualClock,
    clock: FakeClock,
    blank: list[Frame],
    figures: Figures,
) -> None:
    """The empty scene until the next visitor: the time of each frame judged unchanged."""
    source.present(blank)
    for _ in blank:
        before = int(loop.stats()["idle_skipped"])
        started = time.perf_counter()
        loop.step(0.0)
        elapsed = time.perf_counter() - started
        if int(loop.stats()["idle_skipped"]) > before:
            figures.idle_ms.append(elapsed * 1000.0)
        clock.advance(1.0 / FPS)


def _ceiling(
    sample: Sample, grays: list[GrayFrame], found: list[str], unlimited: DecoderChain
) -> int:
    """What the chain with no time limit reads on any frame, beside what was `found` already."""
    texts = list(found)
    for gray in grays:
        if score(sample, texts) >= sample.capacity:
            break
        texts += [code.text for code in unlimited.decode(gray).codes]
    return score(sample, texts)


def run(
    root: Path,
    seed: int,
    half: str | None,
    budget_ms: float,
    *,
    quick: bool,
    ceiling: bool = False,
) -> Figures:
    """Every presentation through the live loop and through plain zxing-cpp, same frames."""
    samples = list(iter_samples(root))
    if quick:
        samples = samples[::24]
    figures = Figures()
    clock = FakeClock()
    source = CameraOnVirtualClock(clock)
    settings = ScanSettings(frame_budget_ms=budget_ms)
    chain = TimedChain(budget_ms)
    loop = ScanLoop(accept_all, settings, clock, frames=source, chain=chain)
    blank = _blank_scene(np.random.default_rng(seed))
    still_chain = DecoderChain(budget_ms)
    unlimited = DecoderChain(math.inf)
    if ceiling:
        figures.ceiling = Reach()
    for number, sample in enumerate(samples):
        which = number % 2
        if half is not None and "ab"[which] != half:
            continue
        image = cv2.imread(str(sample.path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            continue
        still = at_camera_size(u8(image))
        name = str(sample.path.relative_to(root))
        grays = list(presentation(still, name, seed))
        figures.capacity.add(sample, which, sample.capacity, None)

        figures.still_zxing.add(sample, which, score(sample, plain_zxing(still)), None)
        still_texts = [code.text for code in still_chain.decode(still).codes]
        figures.still_chain.add(sample, which, score(sample, still_texts), None)

        zx_reads = []
        for gray in grays:
            started = time.perf_counter()
            zx_reads.append(plain_zxing(gray))
            figures.zxing_ms.append((time.perf_counter() - started) * 1000.0)
        zx_union = [text for texts in zx_reads for text in texts]
        figures.zxing.add(sample, which, score(sample, zx_union), _first_read(sample, zx_reads))

        loop_reads = _through_loop(loop, source, clock, grays, figures)
        figures.offered += len(grays)
        union = [text for texts in loop_reads for text in texts]
        figures.loop.add(sample, which, score(sample, union), _first_read(sample, loop_reads))
        figures.rows.append((name, sample.capacity, score(sample, union), score(sample, zx_union)))
        if figures.ceiling is not None:
            reached = _ceiling(sample, grays, [*zx_union, *union], unlimited)
            figures.ceiling.add(sample, which, reached, None)

        clock.advance(settings.debounce_s + 1.0)  # the next visitor comes later
        _idle_scene(loop, source, clock, blank, figures)
    figures.loop_ms = chain.ms
    return figures


def _ratio(ours: int, base: int) -> str:
    return f"{ours / max(1, base):.3f}x"


def _median(values: list[int]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def report(figures: Figures, budget_ms: float) -> None:
    """Print the tables: per category, totals, timing, halves, stills."""
    capacity, loop, zxing = figures.capacity, figures.loop, figures.zxing
    print(f"{'category':24s} {'codes':>6s} {'loop':>8s} {'zxing-cpp':>10s}")
    for category in sorted(capacity.by_category):
        print(
            f"{category:24s} {capacity.by_category[category]:>6d} "
            f"{loop.by_category.get(category, 0):>8d} {zxing.by_category.get(category, 0):>10d}"
        )
    print(f"{'total':24s} {capacity.codes:>6d} {loop.codes:>8d} {zxing.codes:>10d}")
    print(
        f"frames offered {figures.offered}, taken by the loop {figures.taken} "
        f"(the rest arrived while it was decoding); of those taken, skipped as unchanged "
        f"{figures.skipped.get('idle_skipped', 0)} while idle, "
        f"{figures.skipped.get('held_skipped', 0)} while holding a code already read"
    )
    print(
        f"codes read within 0.5 s: live loop {loop.codes}, plain zxing-cpp on every frame "
        f"{zxing.codes}: {_ratio(loop.codes, zxing.codes)}"
    )
    print(
        f"median frames to first read: live loop {_median(loop.first_frames)}, "
        f"zxing-cpp {_median(zxing.first_frames)}"
    )
    print(
        f"per-frame decode ms: live loop p50 {percentile(figures.loop_ms, 0.5):.2f} "
        f"p95 {percentile(figures.loop_ms, 0.95):.2f} (budget {budget_ms:.0f}); zxing-cpp p50 "
        f"{percentile(figures.zxing_ms, 0.5):.2f} p95 {percentile(figures.zxing_ms, 0.95):.2f}"
    )
    print(
        f"idle frames (loop.step, skipped): median {percentile(figures.idle_ms, 0.5):.3f} ms, "
        f"p95 {percentile(figures.idle_ms, 0.95):.3f} ms"
    )
    for index, name in enumerate("ab"):
        print(
            f"half {name}: live loop {loop.by_half[index]}, zxing-cpp {zxing.by_half[index]} "
            f"({_ratio(loop.by_half[index], zxing.by_half[index])}) of "
            f"{capacity.by_half[index]}"
        )
    still_chain, still_zxing = figures.still_chain, figures.still_zxing
    print(
        f"stills at camera size: decoder chain {still_chain.codes}, plain zxing-cpp "
        f"{still_zxing.codes}: {_ratio(still_chain.codes, still_zxing.codes)}"
    )
    if figures.ceiling is not None:
        print(
            f"ceiling: the decoder chain with no time limit on every frame reads "
            f"{figures.ceiling.codes} ({_ratio(figures.ceiling.codes, zxing.codes)} plain "
            f"zxing-cpp on every frame); the live loop reads "
            f"{loop.codes / max(1, figures.ceiling.codes):.1%} of it"
        )


def main() -> int:
    """Run every reader over the held-phone presentations and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=Path("../shared/testdata/qr-photos"))
    parser.add_argument("--quick", action="store_true", help="every 24th photo only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--half", choices=("a", "b"), help="even (a) or odd (b) photos only")
    parser.add_argument("--budget-ms", type=float, default=ScanSettings().frame_budget_ms)
    parser.add_argument("--list", action="store_true", help="list photos the two read apart")
    parser.add_argument(
        "--ceiling", action="store_true", help="also the chain with no time limit on every frame"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    figures = run(
        args.dataset, args.seed, args.half, args.budget_ms, quick=args.quick, ceiling=args.ceiling
    )
    report(figures, args.budget_ms)
    if args.list:
        for name, codes, loop, zxing in figures.rows:
            if loop != zxing or loop < codes:
                print(f"  {name}: {codes} codes, loop {loop}, zxing-cpp {zxing}")
    print(
        f"seed {args.seed}; {time.perf_counter() - started:.0f} s; load average "
        f"{load:.2f} at start, {os.getloadavg()[0]:.2f} at end (2 cores)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
