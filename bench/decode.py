"""Benchmark: the decoder chain beside plain zxing-cpp and plain pyzbar on labelled QR photos.

Usage: python bench/decode.py --dataset ../shared/testdata/qr-photos [--quick] [--budget-ms 40]
zxing-cpp suites score an image when a decoded text equals its label (line ends and <CTRL> names
normalised); BoofCV images score distinct decoded texts, capped at the number of labelled codes.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import zxingcpp
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.ports import GrayFrame
from edge.scan.chain import DecoderChain
from edge.scan.preprocess import u8

_CONTROL_NAMES = [
    *("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR"),
    *("SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB"),
    *("ESC", "FS", "GS", "RS", "US"),
]
_CONTROL = {name: chr(i) for i, name in enumerate(_CONTROL_NAMES)} | {"DEL": "\x7f"}
_CONTROL_RE = re.compile(r"<(" + "|".join(sorted(_CONTROL, key=len, reverse=True)) + r")>")
_IMAGE_SUFFIXES = (".png", ".webp", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm")


@dataclass(frozen=True)
class Sample:
    """One labelled image: either the exact expected texts or the number of codes in it."""

    path: Path
    category: str
    expected: tuple[str, ...] = ()
    labelled_count: int = 0
    part_of: str | None = None  # structured-append part: its text is a piece of this whole

    @property
    def capacity(self) -> int:
        """How many codes can be scored on this image."""
        return 1 if self.expected or self.part_of is not None else self.labelled_count


def _expected_text(path: Path) -> str | None:
    text_file, bin_file = path.with_suffix(".txt"), path.with_suffix(".bin")
    if text_file.exists():
        return _CONTROL_RE.sub(lambda m: _CONTROL[m.group(1)], text_file.read_text("utf-8"))
    if bin_file.exists():
        return bin_file.read_bytes().decode("latin-1")
    return None


def _boofcv_count(label: Path) -> int:
    lines = [
        line.strip()
        for line in label.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if lines and lines[0] == "SETS":
        return len(lines) - 1
    return len(lines) // 4


def iter_samples(root: Path) -> Iterator[Sample]:
    """Every labelled image under `root` (zxing-cpp style and BoofCV style folders)."""
    for image in sorted(p for p in root.rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES):
        category = f"{image.parent.parent.name}/{image.parent.name}"
        if "boofcv" in image.parts:
            label = image.with_suffix(".txt")
            if label.exists():
                yield Sample(image, category, labelled_count=_boofcv_count(label))
            continue
        part = re.fullmatch(r"(\d+)-\d+", image.stem)
        if part:
            whole = _expected_text(image.with_name(part.group(1) + ".png"))
            if whole is not None:
                yield Sample(image, category, part_of=whole)
            continue
        expected = _expected_text(image)
        if expected is not None:
            yield Sample(image, category, expected=(expected,))


def _normal(text: str) -> str:
    """Labels spell control characters as <LF> etc. and have LF line ends; so may decoders."""
    text = _CONTROL_RE.sub(lambda m: _CONTROL[m.group(1)], text)
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def score(sample: Sample, texts: list[str]) -> int:
    """Codes correctly read in this image (distinct, capped at what the label allows)."""
    distinct = {_normal(t) for t in texts}
    if sample.part_of is not None:
        whole = _normal(sample.part_of)
        return int(any(t and t in whole for t in distinct))
    if sample.expected:
        return int(bool(distinct & {_normal(e) for e in sample.expected}))
    return min(len(distinct), sample.labelled_count)


# --- the benchmark -----------------------------------------------------------------------------

QR_ONLY: Any = zxingcpp.BarcodeFormat.QRCode
Reader = Callable[[GrayFrame], list[str]]


def plain_zxing(gray: GrayFrame) -> list[str]:
    """zxing-cpp as shipped: one call, default options, QR formats."""
    try:
        return [b.text for b in zxingcpp.read_barcodes(gray, formats=QR_ONLY)]
    except Exception:  # noqa: BLE001
        return []


def plain_pyzbar(gray: GrayFrame) -> list[str]:
    """pyzbar as shipped, on the grayscale image."""
    try:
        return [s.data.decode("utf-8", "replace") for s in pyzbar.decode(gray, [ZBarSymbol.QRCODE])]
    except Exception:  # noqa: BLE001
        return []


@dataclass
class Tally:
    """Codes read and per-image times of one reader, overall and by category."""

    read: int = 0
    ms: list[float] = field(default_factory=list)
    by_category: dict[str, int] = field(default_factory=dict)

    def add(self, category: str, points: int, ms: float) -> None:
        """Count one image's points and its decoding time under `category`."""
        self.read += points
        self.ms.append(ms)
        self.by_category[category] = self.by_category.get(category, 0) + points

    def median(self) -> float:
        """Median decoding time per image, ms."""
        return statistics.median(self.ms) if self.ms else 0.0

    def p95(self) -> float:
        """95th percentile decoding time per image, ms."""
        return sorted(self.ms)[int(0.95 * (len(self.ms) - 1))] if self.ms else 0.0


def run(root: Path, budget_ms: float, *, quick: bool) -> dict[str, Tally]:
    """Run every reader on every sample (same images, same process) and tally the results."""
    chain = DecoderChain(budget_ms=budget_ms)
    readers: dict[str, Reader] = {
        "chain": lambda gray: [c.text for c in chain.decode(gray).codes],
        "zxing-cpp": plain_zxing,
        "pyzbar": plain_pyzbar,
    }
    samples = list(iter_samples(root))
    if quick:
        samples = samples[::40]
    tallies = {name: Tally() for name in readers}
    for sample in samples:
        image = cv2.imread(str(sample.path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            continue
        gray = u8(image)
        for name, reader in readers.items():
            started = time.perf_counter()
            texts = reader(gray)
            elapsed = (time.perf_counter() - started) * 1000.0
            tallies[name].add(sample.category, score(sample, texts), elapsed)
    tallies["_capacity"] = Tally()
    for sample in samples:
        tallies["_capacity"].add(sample.category, sample.capacity, 0.0)
    return tallies


def main() -> int:
    """Run the readers over the photo dataset and print one row per reader."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=Path("../shared/testdata/qr-photos"))
    parser.add_argument("--quick", action="store_true", help="every 40th image only (a smoke run)")
    parser.add_argument("--budget-ms", type=float, default=40.0, help="chain time budget")
    args = parser.parse_args()
    tallies = run(args.dataset, args.budget_ms, quick=args.quick)
    capacity = tallies.pop("_capacity")
    names = list(tallies)
    print(f"{'category':24s} {'codes':>6s} " + " ".join(f"{n:>10s}" for n in names))
    for category in sorted(capacity.by_category):
        row = " ".join(f"{tallies[n].by_category.get(category, 0):>10d}" for n in names)
        print(f"{category:24s} {capacity.by_category[category]:>6d} {row}")
    print(
        f"{'total':24s} {capacity.read:>6d} " + " ".join(f"{tallies[n].read:>10d}" for n in names)
    )
    print(f"{'median ms':31s} " + " ".join(f"{tallies[n].median():>10.2f}" for n in names))
    print(f"{'p95 ms':31s} " + " ".join(f"{tallies[n].p95():>10.2f}" for n in names))
    base, chain = tallies["zxing-cpp"], tallies["chain"]
    print(
        f"chain vs plain zxing-cpp: codes {chain.read / max(1, base.read):.3f}x "
        f"(+{100.0 * (chain.read - base.read) / max(1, base.read):.1f} %), "
        f"median cost {chain.median() / max(1e-9, base.median()):.2f}x, "
        f"p95 cost {chain.p95() / max(1e-9, base.p95()):.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
