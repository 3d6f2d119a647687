"""Image preparation passes for the decoder chain: resize, crop, contrast, gamma, sharpening."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.ports import GrayFrame
from edge.scan.decoders import Quad
from edge.scan.opencv import cv2

Transform = Callable[[GrayFrame], GrayFrame]

# gamma 2 darkens mid-tones, pulling washed-out modules (glare, bright screens) back from white
_GAMMA_DARKEN = (np.linspace(0.0, 1.0, 256) ** 2.0 * 255.0).round().astype(np.uint8)


@functools.cache
def _clahe(clip_limit: float) -> Any:
    """One CLAHE per clip limit, built when a contrast pass first runs (OpenCV loads then)."""
    return cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(8, 8))


def u8(image: object) -> GrayFrame:
    """View an OpenCV result as a uint8 frame (no copy when it already is one)."""
    return np.asarray(image, dtype=np.uint8)


def to_gray(image: npt.NDArray[Any]) -> GrayFrame:
    """Grayscale uint8 from a gray, BGR or BGRA array (decoders must never see colour)."""
    if image.ndim == 2:
        gray = image
    elif image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if gray.dtype != np.uint8:
        low, high = float(gray.min()), float(gray.max())
        gray = (gray.astype(np.float64) - low) * (255.0 / max(high - low, 1e-9))
    return np.ascontiguousarray(u8(gray))


def resize_to(gray: GrayFrame, longest_side: int) -> tuple[GrayFrame, float]:
    """Scale so the longest side is at most `longest_side`; returns (image, scale applied)."""
    longest = max(gray.shape[:2])
    if longest <= longest_side:
        return gray, 1.0
    scale = longest_side / longest
    return u8(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)), scale


def scale_for_code(gray: GrayFrame, target: int, small: int) -> tuple[GrayFrame, float]:
    """Upscale a small crop (cubic, so thin modules survive) or shrink a large one to `target`."""
    longest = max(gray.shape[:2])
    if longest < small:
        scale = min(4.0, target / max(1, longest))
        return u8(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)), scale
    return resize_to(gray, target)


def zoom(gray: GrayFrame, factor: float, cap: int) -> tuple[GrayFrame, float]:
    """Upscale by `factor` (cubic), the longest side at most `cap`; returns (image, scale)."""
    scale = min(factor, cap / max(1, *gray.shape[:2]))
    if scale <= 1.0:
        return gray, 1.0
    return u8(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)), scale


def crop_quad(
    gray: GrayFrame, quad: Quad, margin: float = 0.2
) -> tuple[GrayFrame, tuple[float, float]] | None:
    """The bounding box of `quad` grown by `margin` of its size, clipped; with its offset."""
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    pad = margin * max(width, height, 8.0)
    x0 = max(0, int(min(xs) - pad))
    y0 = max(0, int(min(ys) - pad))
    x1 = min(gray.shape[1], int(max(xs) + pad) + 1)
    y1 = min(gray.shape[0], int(max(ys) + pad) + 1)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    return np.ascontiguousarray(gray[y0:y1, x0:x1]), (float(x0), float(y0))


def clahe(gray: GrayFrame) -> GrayFrame:
    """Local contrast equalisation: lifts codes out of shadows and uneven light."""
    return u8(_clahe(2.0).apply(gray))


def clahe_strong(gray: GrayFrame) -> GrayFrame:
    """Stronger local equalisation for very flat (hazy, over-exposed) images."""
    return u8(_clahe(4.0).apply(gray))


def darken(gray: GrayFrame) -> GrayFrame:
    """Gamma 2: restores module contrast in bright, washed-out regions (glare, screens)."""
    return u8(cv2.LUT(gray, _GAMMA_DARKEN))


def sharpen(gray: GrayFrame) -> GrayFrame:
    """Unsharp mask: steepens module edges smeared by focus or motion blur."""
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return u8(cv2.addWeighted(gray, 1.8, blurred, -0.8, 0))


def half(gray: GrayFrame) -> GrayFrame:
    """Half size (area averaging): blur shrinks below a module, and the pass costs a quarter."""
    return u8(cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))


def smooth(gray: GrayFrame) -> GrayFrame:
    """Gaussian blur (sigma 1.5): evens out sensor noise, JPEG blocks and glare speckle that
    break the binariser's module edges."""
    return u8(cv2.GaussianBlur(gray, (0, 0), 1.5))


def adaptive(gray: GrayFrame) -> GrayFrame:
    """Binarise against the local mean over 1/32 of the image: survives light that changes
    across the code (shadows, reflections, a tilted card), where one global threshold cannot."""
    block = max(11, (max(gray.shape[:2]) // 32) | 1)
    return u8(
        cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 7)
    )


def median(gray: GrayFrame) -> GrayFrame:
    """5x5 median: removes speckle (sensor noise, moire, glare sparkle) but keeps module edges."""
    return u8(cv2.medianBlur(gray, 5))


def otsu(gray: GrayFrame) -> GrayFrame:
    """Global Otsu binarisation after a light blur (removes moiré and sensor noise)."""
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    return u8(cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1])
