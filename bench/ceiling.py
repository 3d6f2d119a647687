"""Benchmark: the ceiling of the decoders, by brute force, on what the decoder chain misses.

Every still (at camera size) the chain with no time limit does not read completely is read by
zxing-cpp with each of its four binarisers (rotation, downscaling, inversion tried) and by pyzbar,
on 11 preparations at 5 scales: 213 readings. With --frames, the held-phone frames of those photos
(every third of the 15) get 71 of those readings each. What no reading finds, no pass built from
these decoders and preparations will: the figures bound what any fallback pass can add.
Usage: python bench/ceiling.py [--dataset DIR] [--quick] [--frames] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.decode import iter_samples, plain_zxing, score
from bench.held_phone import at_camera_size, presentation
from edge.ports import GrayFrame
from edge.scan import preprocess as pp
from edge.scan.chain import DecoderChain
from edge.scan.preprocess import u8

BINARIZERS: dict[str, Any] = {
    "local": zxingcpp.Binarizer.LocalAverage,
    "global": zxingcpp.Binarizer.GlobalHistogram,
    "fixed": zxingcpp.Binarizer.FixedThreshold,
    "bool": zxingcpp.Binarizer.BoolCast,
}
QR: Any = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode)
_BRIGHTEN = (np.linspace(0.0, 1.0, 256) ** 0.5 * 255.0).round().astype(np.uint8)


def _strong_sharpen(gray: GrayFrame) -> GrayFrame:
    return u8(cv2.addWeighted(gray, 2.5, cv2.GaussianBlur(gray, (0, 0), 3.0), -1.5, 0))


PREPARATIONS: dict[str, Callable[[GrayFrame], GrayFrame]] = {
    "none": lambda gray: gray,
    "clahe": pp.clahe,
    "clahe-strong": pp.clahe_strong,
    "darken": pp.darken,
    "brighten": lambda gray: u8(cv2.LUT(gray, _BRIGHTEN)),
    "sharpen": pp.sharpen,
    "sharpen-strong": _strong_sharpen,
    "smooth": pp.smooth,
    "median": pp.median,
    "adaptive": pp.adaptive,
    "otsu": pp.otsu,
}
BINARY = ("adaptive", "otsu")  # already binary: one zxing-cpp binariser is enough
FRAME_PREPARATIONS = ("none", "clahe", "darken", "sharpen", "smooth", "adaptive")


def _zxing(gray: GrayFrame, binarizer: str) -> list[str]:
    try:
        found = zxingcpp.read_barcodes(
            np.ascontiguousarray(gray),
            formats=QR,
            try_rotate=True,
            try_downscale=True,
            try_invert=True,
            binarizer=BINARIZERS[binarizer],
        )
    except Exception:  # noqa: BLE001 - a decoder fault counts as nothing read
        return []
    return [symbol.text for symbol in found]


def _pyzbar(gray: GrayFrame) -> list[str]:
    try:
        found = pyzbar.decode(np.ascontiguousarray(gray), [pyzbar.ZBarSymbol.QRCODE])
    except Exception:  # noqa: BLE001
        return []
    return [symbol.data.decode("utf-8", "replace") for symbol in found]


def readings(
    gray: GrayFrame, scales: tuple[float, ...], names: tuple[str, ...]
) -> dict[str, list[str]]:
    """Every (scale, preparation, decoder) reading of `gray`: what each one read."""
    out: dict[str, list[str]] = {}
    for scale in scales:
        interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        scaled = (
            gray
            if scale == 1.0
            else u8(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation))
        )
        for name in names:
            image = PREPARATIONS[name](scaled)
            for binarizer in ("local",) if name in BINARY else tuple(BINARIZERS):
                out[f"zxing-{binarizer}/{name}/{scale}"] = _zxing(image, binarizer)
            out[f"pyzbar/{name}/{scale}"] = _pyzbar(image)
    return out


def main() -> int:
    """Read every still the chain misses in every way, and print what any reading found."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=Path("../shared/testdata/qr-photos"))
    parser.add_argument("--quick", action="store_true", help="every 24th photo, 2 scales")
    parser.add_argument("--frames", action="store_true", help="also the held-phone frames")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    scales = (1.0, 2.0) if args.quick else (0.5, 0.75, 1.0, 1.5, 2.0)
    frame_scales = (1.0,) if args.quick else (0.5, 1.0, 1.5)
    samples = list(iter_samples(args.dataset))[:: 24 if args.quick else 1]
    chain = DecoderChain(budget_ms=1e9)
    totals: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    gains: Counter[str] = Counter()
    for sample in samples:
        image = cv2.imread(str(sample.path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            continue
        still = at_camera_size(u8(image))
        chain_read = score(sample, [code.text for code in chain.decode(still).codes])
        totals["codes"] += sample.capacity
        totals["zxing-cpp"] += score(sample, plain_zxing(still))
        totals["chain"] += chain_read
        if chain_read >= sample.capacity:
            totals["oracle"] += chain_read
            totals["frames"] += chain_read
            continue
        read = readings(still, scales, tuple(PREPARATIONS))
        best = score(sample, [text for texts in read.values() for text in texts])
        totals["oracle"] += best
        by_category[sample.category] += best - chain_read
        for name, texts in read.items():
            gains[name] += max(0, score(sample, texts) - chain_read)
        if args.frames:
            name = str(sample.path.relative_to(args.dataset))
            texts = []
            for frame in list(presentation(still, name, args.seed))[::3]:
                for found in readings(frame, frame_scales, FRAME_PREPARATIONS).values():
                    texts += found
            totals["frames"] += max(chain_read, score(sample, texts))
    base = max(1, totals["zxing-cpp"])
    print(f"stills at camera size, {totals['codes']} codes: plain zxing-cpp {totals['zxing-cpp']},")
    print(f"  chain with no time limit {totals['chain']} ({totals['chain'] / base:.3f}x),")
    print(f"  brute-force ceiling {totals['oracle']} ({totals['oracle'] / base:.3f}x)")
    print(
        "  codes the ceiling adds by category: "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_category.items()) if v)
    )
    print("  readings that add most: " + ", ".join(f"{k} {v}" for k, v in gains.most_common(6)))
    if args.frames:
        frames = totals["frames"]
        print(f"held-phone frames (every third), best of the still's chain and them: {frames}")
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
