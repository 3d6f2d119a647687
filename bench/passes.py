"""Benchmark: what each image-preparing pass of the decoder chain costs, beside OpenCV.

The chain's passes run on numpy alone (so a gate whose frames need no OpenCV never loads it);
the baseline in the same run is the OpenCV call each pass stood for (kept here). Each pass runs
on photos of the development set brought to camera size (longest side 1280 px) and on a 640 px
region cropped from their centres (the size the chain's region passes work on), and on the
upscales the region passes make (a 320 px region x2). Timings alternate the two versions, and
each figure is the median over the photos of the best of a few runs.
Usage: python bench/passes.py [--dataset DIR] [--quick] [--photos N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.decode import iter_samples
from bench.held_phone import at_camera_size
from edge.ports import GrayFrame
from edge.scan import preprocess as pp

_GAMMA = (np.linspace(0.0, 1.0, 256) ** 2.0 * 255.0).round().astype(np.uint8)


def _cv_resize(gray: GrayFrame, scale: float, interpolation: int) -> GrayFrame:
    return np.asarray(
        cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation), np.uint8
    )


def _cv_adaptive(gray: GrayFrame) -> GrayFrame:
    block = max(11, (max(gray.shape[:2]) // 32) | 1)
    return np.asarray(
        cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 7),
        np.uint8,
    )


def _cv_otsu(gray: GrayFrame) -> GrayFrame:
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    return np.asarray(
        cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1], np.uint8
    )


# name: (the chain's numpy pass, the OpenCV call it stands for)
PASSES: dict[str, tuple[Callable[[GrayFrame], GrayFrame], Callable[[GrayFrame], GrayFrame]]] = {
    "darken": (pp.darken, lambda g: np.asarray(cv2.LUT(g, _GAMMA), np.uint8)),
    "half": (pp.half, lambda g: _cv_resize(g, 0.5, cv2.INTER_AREA)),
    "shrink 0.6": (
        lambda g: pp.resize_to(g, round(max(g.shape) * 0.6))[0],
        lambda g: _cv_resize(g, 0.6, cv2.INTER_AREA),
    ),
    "sharpen": (
        pp.sharpen,
        lambda g: np.asarray(
            cv2.addWeighted(g, 1.8, cv2.GaussianBlur(g, (0, 0), 2.0), -0.8, 0), np.uint8
        ),
    ),
    "smooth": (pp.smooth, lambda g: np.asarray(cv2.GaussianBlur(g, (0, 0), 1.5), np.uint8)),
    "adaptive": (pp.adaptive, _cv_adaptive),
    "otsu": (pp.otsu, _cv_otsu),
    "median": (pp.median, lambda g: np.asarray(cv2.medianBlur(g, 5), np.uint8)),
    "clahe": (pp.clahe, lambda g: np.asarray(cv2.createCLAHE(2.0, (8, 8)).apply(g), np.uint8)),
    "clahe_strong": (
        pp.clahe_strong,
        lambda g: np.asarray(cv2.createCLAHE(4.0, (8, 8)).apply(g), np.uint8),
    ),
}
ZOOM = (
    lambda g: pp.zoom(g, 2.0, 1280)[0],
    lambda g: _cv_resize(g, 2.0, cv2.INTER_CUBIC),
)


def _best_ms(run: Callable[[GrayFrame], GrayFrame], image: GrayFrame, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run(image)
        best = min(best, time.perf_counter() - started)
    return best * 1000.0


def _photos(dataset: Path, count: int) -> list[GrayFrame]:
    samples = list(iter_samples(dataset))
    step = max(1, len(samples) // count)
    photos = []
    for sample in samples[::step][:count]:
        image = cv2.imread(str(sample.path), cv2.IMREAD_GRAYSCALE)
        if image is not None:
            photos.append(at_camera_size(np.asarray(image, np.uint8)))
    return photos


def _centre(gray: GrayFrame, side: int) -> GrayFrame:
    top = max(0, (gray.shape[0] - side) // 2)
    left = max(0, (gray.shape[1] - side) // 2)
    return np.ascontiguousarray(gray[top : top + side, left : left + side])


def main() -> int:
    """Time every pass both ways on frames, regions and region upscales; print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=Path("../shared/testdata/qr-photos"))
    parser.add_argument("--quick", action="store_true", help="two photos, one run each")
    parser.add_argument("--photos", type=int, default=12)
    args = parser.parse_args()
    if not args.dataset.is_dir():
        print(f"no dataset at {args.dataset}; nothing to time")
        return 0
    photos = _photos(args.dataset, 2 if args.quick else args.photos)
    repeats = 1 if args.quick else 5
    frames = [photo for photo in photos if max(photo.shape) == 1280] or photos
    sizes = {
        "frame (1280 px)": frames,
        "region (640 px)": [_centre(photo, 640) for photo in photos],
    }
    print(f"{len(photos)} photos; ms per call, median over photos of the best of {repeats}")
    print(f"{'pass':14s} {'image':16s} {'numpy':>8s} {'OpenCV':>8s} {'ratio':>6s}")
    rows = [(name, size) for name in PASSES for size in sizes]
    rows.append(("zoom x2", "region (320 px)"))
    for name, size in rows:
        if name == "zoom x2":
            ours, theirs = ZOOM
            images = [_centre(photo, 320) for photo in photos]
        else:
            ours, theirs = PASSES[name]
            images = sizes[size]
        numpy_ms, opencv_ms = [], []
        for image in images:
            numpy_ms.append(_best_ms(ours, image, repeats))
            opencv_ms.append(_best_ms(theirs, image, repeats))
        ours_median, theirs_median = statistics.median(numpy_ms), statistics.median(opencv_ms)
        print(
            f"{name:14s} {size:16s} {ours_median:8.2f} {theirs_median:8.2f} "
            f"{ours_median / max(theirs_median, 1e-6):6.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
