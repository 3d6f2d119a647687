"""Image preparation passes for the decoder chain, in numpy alone: resize, contrast, filters."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.ports import GrayFrame
from edge.scan import clahe as equalise
from edge.scan.bands import row_bands
from edge.scan.decoders import Quad

Transform = Callable[[GrayFrame], GrayFrame]
FloatImage = npt.NDArray[np.float32]

# OpenCV's BGR -> gray weights (0.114, 0.587, 0.299) in its 15-bit fixed point, bit for bit
_GRAY_WEIGHTS = (3735, 19235, 9798)
_GRAY_SHIFT = 15
_CUBIC_A = -0.75  # OpenCV's bicubic kernel
# Box widths whose cascade stands for the Gaussian of each sigma the passes blur with: the same
# variance for sigma 2 (three 3-boxes and a 5-box: 4.0); for 1.5 three 3-boxes (2.0), as near
# to OpenCV's 11-tap kernel, which its truncation narrows.
_BOXES = {2.0: (3, 3, 3, 5), 1.5: (3, 3, 3)}
_RESAMPLE_BAND = 32
_ENLARGE_BAND = 16
# the filters' bands are taller than BAND_ROWS: each band re-reads the rows its reach shares
# with the next, and each numpy call on a band costs its fixed overhead; both outweigh the
# larger band's cache misses (measured: 128 rows beat 32 and 64 by a quarter or more)
_TALL_BAND = 128
_ADAPTIVE_ROWS = 256


def u8(image: object) -> GrayFrame:
    """View an image as a uint8 frame (no copy when it already is one)."""
    return np.asarray(image, dtype=np.uint8)


def _rounded(image: FloatImage) -> GrayFrame:
    """Round to the nearest level and saturate, as OpenCV stores a float result in uint8
    (in place: `image` is a temporary of the caller's)."""
    np.clip(image, 0.0, 255.0, out=image)
    np.rint(image, out=image)
    return image.astype(np.uint8)


def _along(image: npt.NDArray[Any], axis: int, start: int, stop: int) -> npt.NDArray[Any]:
    """The slice start:stop of `image` along `axis` (a view)."""
    return image[start:stop] if axis == 0 else image[:, start:stop]


def _window_sums(
    image: npt.NDArray[Any], width: int, axis: int, out: npt.NDArray[Any] | None = None
) -> npt.NDArray[Any]:
    """Sums of `width` consecutive pixels along `axis` (the output is width - 1 shorter), from
    power-of-two partial sums: log2(width) additions of the whole image, whatever the width.
    Into `out` when given (of the output's shape), else a new array or, for a power-of-two
    width, a view of the last partial sums (of `image` itself only for width 1, then copied)."""
    length = image.shape[axis] - width + 1
    first: npt.NDArray[Any] | None = None
    total: npt.NDArray[Any] | None = None
    partial, size, offset = image, 1, 0
    while True:
        if width & size:
            part = _along(partial, axis, offset, offset + length)
            if first is None:
                first = part
            elif total is None:
                # the first two parts added into the output: no copy of the first
                total = np.add(first, part, out=out)
            else:
                total += part
            offset += size
        if size * 2 > width:
            break
        count = partial.shape[axis] - size
        partial = _along(partial, axis, 0, count) + _along(partial, axis, size, size + count)
        size *= 2
    if total is not None:
        return total
    assert first is not None
    if out is not None:
        np.copyto(out, first)
        return out
    return first.copy() if width == 1 else first


def _across_sums(image: npt.NDArray[Any], width: int) -> npt.NDArray[Any]:
    """Sums of `width` consecutive pixels along each row of a C-contiguous image, as an image
    of the same shape whose first (columns - width + 1) columns hold them (the rest zero, or
    sums across the end of a row). Worked on the rows laid end to end: a shift of the whole
    buffer costs a third of a shift of every row apart, and a sum that runs past the end of a
    row lands only in the columns the caller drops."""
    flat = image.reshape(-1)
    length = max(flat.size - width + 1, 0)
    out = np.empty_like(flat)
    out[length:] = 0
    _window_sums(flat, width, axis=0, out=out[:length])
    return out.reshape(image.shape)


def to_gray(image: npt.NDArray[Any]) -> GrayFrame:
    """Grayscale uint8 from a gray, BGR or BGRA array (decoders must never see colour)."""
    if image.ndim == 2:
        gray = image
    elif "cv2" in sys.modules:
        # the frame's source (a USB camera, a video) loaded OpenCV already: its conversion is
        # the same to the bit and several times faster
        cv2: Any = sys.modules["cv2"]
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        gray = cv2.cvtColor(image, code)
    else:
        blue, green, red = (image[..., channel].astype(np.uint32) for channel in range(3))
        weighted = blue * _GRAY_WEIGHTS[0] + green * _GRAY_WEIGHTS[1] + red * _GRAY_WEIGHTS[2]
        gray = ((weighted + (1 << (_GRAY_SHIFT - 1))) >> _GRAY_SHIFT).astype(np.uint8)
    if gray.dtype != np.uint8:
        low, high = float(gray.min()), float(gray.max())
        gray = (gray.astype(np.float64) - low) * (255.0 / max(high - low, 1e-9))
    return np.ascontiguousarray(u8(gray))


def _scaled_size(length: int, scale: float) -> int:
    # OpenCV's rounding of a size given as a factor (half to even, never below one pixel)
    return max(1, round(length * scale))


def _area_taps(
    length: int, out_length: int, step: float
) -> tuple[npt.NDArray[np.intp], FloatImage]:
    """OpenCV's INTER_AREA along one axis: output pixel i averages input [i*step, (i+1)*step)
    clipped to the image, partly covered pixels weighted by their share; the source pixels
    (clamped, weight 0 past the cell) and weights of each output pixel."""
    start = np.arange(out_length, dtype=np.float64) * step
    stop = np.minimum(start + step, length)
    taps = int(np.ceil(step)) + 1
    index = np.floor(start).astype(np.intp)[:, None] + np.arange(taps)
    covered = np.minimum(index + 1, stop[:, None]) - np.maximum(index, start[:, None])
    weights = np.maximum(covered, 0.0) / (stop - start)[:, None]
    return np.minimum(index, length - 1), weights.astype(np.float32)


def _enlarging_bands(
    index: npt.NDArray[np.intp], weights: FloatImage, length: int
) -> tuple[FloatImage, npt.NDArray[np.intp]]:
    """Enlarging along one axis of `length` pixels, in bands of `_ENLARGE_BAND` output pixels:
    each band's small weight matrix (band x span) and the span of source pixels it reads."""
    count, taps = index.shape
    bands = -(-count // _ENLARGE_BAND)
    padded = np.concatenate([index, np.repeat(index[-1:], bands * _ENLARGE_BAND - count, 0)])
    padded_weights = np.zeros((bands * _ENLARGE_BAND, taps), dtype=np.float32)
    padded_weights[:count] = weights
    first = padded.reshape(bands, -1).min(axis=1)
    span = int((padded.reshape(bands, -1).max(axis=1) - first).max()) + 1
    mixing = np.zeros((bands, _ENLARGE_BAND, span), dtype=np.float32)
    band_of = np.arange(bands * _ENLARGE_BAND) // _ENLARGE_BAND
    line = np.arange(bands * _ENLARGE_BAND) % _ENLARGE_BAND
    for tap in range(taps):
        # one tap at a time: a pixel's taps may share a clamped source pixel
        mixing[band_of, line, padded[:, tap] - first[band_of]] += padded_weights[:, tap]
    source = np.minimum(first[:, None] + np.arange(span), length - 1)
    return mixing, source


def _enlarge_both(
    gray: GrayFrame,
    rows: tuple[npt.NDArray[np.intp], FloatImage],
    columns: tuple[npt.NDArray[np.intp], FloatImage],
) -> FloatImage:
    """Enlarge across, then down: every band of output pixels is the small product of its
    weights with the few source pixels it reads, all bands of an axis in one batched product
    (the source read once per band, never a product over the whole frame)."""
    height, width = gray.shape
    mixing, source = _enlarging_bands(*columns, width)
    # (bands, height, span) @ (bands, span, band) -> (bands, height, band) -> height x width
    spans = gray[:, source].astype(np.float32).transpose(1, 0, 2)
    across = np.matmul(spans, mixing.transpose(0, 2, 1)).transpose(1, 0, 2)
    across = across.reshape(height, -1)[:, : columns[0].shape[0]]
    mixing, source = _enlarging_bands(*rows, height)
    down: FloatImage = np.matmul(mixing, across[source]).reshape(-1, across.shape[1])
    return down[: rows[0].shape[0]]


def _resample_rows(
    image: npt.NDArray[Any], index: npt.NDArray[np.intp], weights: FloatImage
) -> FloatImage:
    """Output row i = sum over k of weights[i, k] * image[index[i, k]], shrinking: a band of
    output rows at a time, each gathering its taps' rows (every source row read about once
    per tap)."""
    out = np.empty((index.shape[0], image.shape[1]), dtype=np.float32)
    for top, bottom in row_bands(index.shape[0], _RESAMPLE_BAND):
        band = slice(top, bottom)
        summed = out[band]
        np.multiply(image[index[band, 0]], weights[band, 0, None], out=summed)
        for tap in range(1, index.shape[1]):
            summed += image[index[band, tap]] * weights[band, tap, None]
    return out


def _resample(
    gray: GrayFrame,
    taps: Callable[[int, int, float], tuple[npt.NDArray[np.intp], FloatImage]],
    scale: float,
) -> GrayFrame:
    """Resize by `scale` with the per-axis `taps`, down the rows and then across."""
    height, width = gray.shape
    rows = taps(height, _scaled_size(height, scale), 1.0 / scale)
    columns = taps(width, _scaled_size(width, scale), 1.0 / scale)
    down = _resample_rows(gray, *rows)
    across = _rounded(_resample_rows(np.ascontiguousarray(down.T), *columns))
    return np.ascontiguousarray(across.T)


def _shrink(gray: GrayFrame, scale: float) -> GrayFrame:
    """cv2.resize(fx=fy=scale, INTER_AREA) for scale < 1."""
    return _resample(gray, _area_taps, scale)


def _cubic_taps(
    length: int, out_length: int, step: float
) -> tuple[npt.NDArray[np.intp], FloatImage]:
    """The four source pixels (edge-clamped) and weights of each output pixel along one axis."""
    position = (np.arange(out_length, dtype=np.float64) + 0.5) * step - 0.5
    first = np.floor(position)
    t = position - first
    a = _CUBIC_A
    near = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    far = 1.0 - t
    next_near = ((a + 2.0) * far - (a + 3.0)) * far * far + 1.0
    before = ((a * (t + 1.0) - 5.0 * a) * (t + 1.0) + 8.0 * a) * (t + 1.0) - 4.0 * a
    weights = np.stack([before, near, next_near, 1.0 - before - near - next_near], axis=1)
    index = np.clip(first.astype(np.intp)[:, None] + np.arange(-1, 3), 0, length - 1)
    return index, weights.astype(np.float32)


def _enlarge(gray: GrayFrame, scale: float) -> GrayFrame:
    """cv2.resize(fx=fy=scale, INTER_CUBIC) for scale > 1."""
    height, width = gray.shape
    rows = _cubic_taps(height, _scaled_size(height, scale), 1.0 / scale)
    columns = _cubic_taps(width, _scaled_size(width, scale), 1.0 / scale)
    return _rounded(np.ascontiguousarray(_enlarge_both(gray, rows, columns)))


def resize_to(gray: GrayFrame, longest_side: int) -> tuple[GrayFrame, float]:
    """Scale so the longest side is at most `longest_side`; returns (image, scale applied)."""
    longest = max(gray.shape[:2])
    if longest <= longest_side:
        return gray, 1.0
    scale = longest_side / longest
    return _shrink(gray, scale), scale


def scale_for_code(gray: GrayFrame, target: int, small: int) -> tuple[GrayFrame, float]:
    """Upscale a small crop (cubic, so thin modules survive) or shrink a large one to `target`."""
    longest = max(gray.shape[:2])
    if longest < small:
        scale = min(4.0, target / max(1, longest))
        return _enlarge(gray, scale), scale
    return resize_to(gray, target)


def zoom(gray: GrayFrame, factor: float, cap: int) -> tuple[GrayFrame, float]:
    """Upscale by `factor` (cubic), the longest side at most `cap`; returns (image, scale)."""
    scale = min(factor, cap / max(1, *gray.shape[:2]))
    if scale <= 1.0:
        return gray, 1.0
    return _enlarge(gray, scale), scale


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
    return equalise.clahe(gray, 2.0)


def clahe_strong(gray: GrayFrame) -> GrayFrame:
    """Stronger local equalisation for very flat (hazy, over-exposed) images."""
    return equalise.clahe(gray, 4.0)


def darken(gray: GrayFrame) -> GrayFrame:
    """Gamma 2: restores module contrast in bright, washed-out regions (glare, screens)."""
    # round(255 * (level / 255) ** 2) = round(level**2 / 255), in uint16: no tie can occur
    # (255 is odd), and (v + 128 + ((v + 128) >> 8)) >> 8 divides by 255 rounding, exactly for
    # every level; four passes over the frame beat a table lookup's index conversion
    squared = gray.astype(np.uint16)
    squared *= squared
    squared += 128
    squared += squared >> 8
    squared >>= 8
    return squared.astype(np.uint8)


def _blurred(
    gray: GrayFrame, sigma: float, finish: Callable[[GrayFrame, FloatImage], GrayFrame]
) -> GrayFrame:
    """A Gaussian blur of `sigma`, approximated by a cascade of box blurs along each axis (the
    image extended by reflection, OpenCV's default border), a band of rows at a time; `finish`
    turns each band of the source and its blur into the output band."""
    widths = _BOXES[sigma]
    scale = np.float32(1.0 / float(np.prod(widths)) ** 2)
    reach = sum(width - 1 for width in widths) // 2
    padded = np.pad(gray, reach, mode="reflect")
    height = gray.shape[0]
    out = np.empty_like(gray)
    for top, bottom in row_bands(height, _TALL_BAND):
        # across-sums fit uint16 (the boxes' product is at most 257); down-sums are exact in
        # float32
        summed: npt.NDArray[Any] = padded[top : bottom + 2 * reach].astype(np.uint16)
        for width in widths:
            summed = _across_sums(summed, width)
        summed = summed[:, : gray.shape[1]].astype(np.float32)
        for width in widths:
            summed = _window_sums(summed, width, axis=0)
        summed *= scale
        out[top:bottom] = finish(gray[top:bottom], summed)
    return out


def _mean(_: GrayFrame, blurred: FloatImage) -> GrayFrame:
    # a weighted mean of levels needs no saturating: rounding alone is what OpenCV stores
    np.rint(blurred, out=blurred)
    return blurred.astype(np.uint8)


def _unsharp(source: GrayFrame, blurred: FloatImage) -> GrayFrame:
    blurred *= np.float32(-0.8)
    blurred += source * np.float32(1.8)
    return _rounded(blurred)


def sharpen(gray: GrayFrame) -> GrayFrame:
    """Unsharp mask: steepens module edges smeared by focus or motion blur."""
    return _blurred(gray, 2.0, _unsharp)


def half(gray: GrayFrame) -> GrayFrame:
    """Half size (area averaging): blur shrinks below a module, and the pass costs a quarter."""
    height, width = (gray.shape[0] // 2) * 2, (gray.shape[1] // 2) * 2
    source = gray[:height, :width]
    # pairs of whole rows first: contiguous, so the strided column pairs read half as much
    rows = source[0::2].astype(np.uint16)
    rows += source[1::2]
    summed = rows[:, 0::2] + rows[:, 1::2]
    summed += 2
    summed >>= 2
    return summed.astype(np.uint8)


def smooth(gray: GrayFrame) -> GrayFrame:
    """Gaussian blur (sigma 1.5): evens out sensor noise, JPEG blocks and glare speckle that
    break the binariser's module edges."""
    return _blurred(gray, 1.5, _mean)


def _histogram(gray: GrayFrame) -> npt.NDArray[np.int64]:
    """How many pixels have each level: counted two pixels at a time (each pair of bytes read
    as one of 65536 uint16 values, the two levels' counts folded out after), half the counts."""
    flat = np.ascontiguousarray(gray).reshape(-1)
    paired = flat.size - flat.size % 2
    pairs = np.bincount(flat[:paired].view(np.uint16), minlength=1 << 16).reshape(256, 256)
    counts: npt.NDArray[np.int64] = pairs.sum(axis=0) + pairs.sum(axis=1)
    if paired < flat.size:
        counts[flat[-1]] += 1
    return counts


def adaptive(gray: GrayFrame) -> GrayFrame:
    """Binarise against the local mean over 1/32 of the image: survives light that changes
    across the code (shadows, reflections, a tilted card), where one global threshold cannot."""
    height, width = gray.shape
    block = max(11, (max(height, width) // 32) | 1)
    area = block * block
    padded = np.pad(gray, block // 2, mode="edge")
    # OpenCV's ADAPTIVE_THRESH_MEAN_C, THRESH_BINARY, C = 7: white where the pixel is above
    # its block's rounded mean less 7, i.e. where rint(sum / area) <= pixel + 6; the area is
    # odd, so the mean is never half-way between levels and this is sum < area * (pixel + 6.5),
    # exact in integers
    above = (13 * area) // 2 + 1
    out = np.empty_like(gray)
    # a band re-reads the block's height of rows: tall bands, so that is a small share
    for top, bottom in row_bands(height, max(_ADAPTIVE_ROWS, 4 * block)):
        # the sum over the block around each pixel, edges replicated: down the columns in
        # uint16 (at most block * 255), then across in int32
        down = _window_sums(padded[top : bottom + block - 1].astype(np.uint16), block, axis=0)
        summed = _across_sums(down.astype(np.int32), block)[:, :width]
        bound = gray[top:bottom].astype(np.int32)
        bound *= area
        bound += above
        out[top:bottom] = _white_where(bound > summed)
    return out


def _white_where(condition: npt.NDArray[np.bool_]) -> GrayFrame:
    """255 where `condition` holds, else 0."""
    white = condition.view(np.uint8)
    white *= np.uint8(255)
    return white


def _median3(padded: GrayFrame) -> GrayFrame:
    """3x3 median of the inner pixels of `padded` (the output is 2 smaller each way): each
    column of three sorted once, then the median of the columns' largest minimum, middle
    median and smallest maximum (exact). The comparisons across work on the rows laid end to
    end (as _across_sums does): those that reach past a row's end land in dropped columns."""
    top, middle, bottom = padded[:-2], padded[1:-1], padded[2:]
    low, high = np.minimum(top, middle), np.maximum(top, middle)
    mid = np.minimum(high, bottom)
    np.maximum(high, bottom, out=high)
    low, mid = np.minimum(low, mid), np.maximum(low, mid)
    low, high, mid = low.reshape(-1), high.reshape(-1), mid.reshape(-1)
    max_low = np.maximum(low[:-2], low[1:-1])
    np.maximum(max_low, low[2:], out=max_low)
    min_high = np.minimum(high[:-2], high[1:-1])
    np.minimum(min_high, high[2:], out=min_high)
    first, second = np.minimum(mid[:-2], mid[1:-1]), np.maximum(mid[:-2], mid[1:-1])
    np.minimum(second, mid[2:], out=second)
    np.maximum(first, second, out=first)  # the median of the three medians
    low_of, high_of = np.minimum(max_low, first), np.maximum(max_low, first)
    np.minimum(high_of, min_high, out=high_of)
    out = np.empty(low.size, dtype=np.uint8)
    np.maximum(low_of, high_of, out=out[:-2])
    return out.reshape(-1, padded.shape[1])[:, : padded.shape[1] - 2]


def median(gray: GrayFrame) -> GrayFrame:
    """3x3 median: removes speckle (sensor noise, moiré, glare sparkle) but keeps module edges
    (on the development photos it reads, beside the other passes, what OpenCV's 5x5 did)."""
    padded = np.pad(gray, 1, mode="edge")
    height = gray.shape[0]
    out = np.empty_like(gray)
    for top, bottom in row_bands(height, _TALL_BAND):
        out[top:bottom] = _median3(padded[top : bottom + 2])
    return out


def _otsu_threshold(image: GrayFrame) -> int:
    """The level that best separates the histogram into two classes (OpenCV's Otsu)."""
    counts = _histogram(image).astype(np.float64)
    share = counts / image.size
    levels = np.arange(256, dtype=np.float64)
    below = np.cumsum(share)
    above = 1.0 - below
    mean = float((share * levels).sum())
    below_mean = np.cumsum(share * levels) / np.where(below > 0, below, 1.0)
    above_mean = (mean - below * below_mean) / np.where(above > 0, above, 1.0)
    between = below * above * (below_mean - above_mean) ** 2
    epsilon = float(np.finfo(np.float32).eps)
    between[(below < epsilon) | (above < epsilon)] = 0.0
    return int(np.argmax(between))


def otsu(gray: GrayFrame) -> GrayFrame:
    """Global Otsu binarisation after a light blur (removes moiré and sensor noise)."""
    padded = np.pad(gray, 1, mode="reflect")
    height, width = gray.shape
    blurred = np.empty_like(gray)
    for top, bottom in row_bands(height, _TALL_BAND):
        # [1, 2, 1] across (the band's rows laid end to end, as in _across_sums) and down,
        # rounded once: OpenCV's 3x3 Gaussian, bit for bit
        rows = padded[top : bottom + 2].astype(np.uint16)
        flat = rows.reshape(-1)
        across = np.empty_like(rows)
        line = across.reshape(-1)[: flat.size - 2]
        np.left_shift(flat[1:-1], 1, out=line)
        line += flat[:-2]
        line += flat[2:]
        summed = across[:-2] + across[2:]
        summed += across[1:-1] << 1
        summed += 8
        summed >>= 4
        blurred[top:bottom] = summed[:, :width]
    return _white_where(blurred > _otsu_threshold(blurred))
