"""Thin, exception-safe wrappers around the QR decoders (zxing-cpp, pyzbar)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zxingcpp

from edge.ports import GrayFrame

log = logging.getLogger(__name__)

Quad = tuple[tuple[float, float], ...]

_QR_FORMATS: Any = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode)


@dataclass(frozen=True)
class DecodedCode:
    """One decoded symbol: text (see `bytes_to_text`), raw bytes, decoder name and corners."""

    text: str
    raw: bytes
    decoder: str
    quad: Quad


@dataclass(frozen=True)
class LocatedGrid:
    """A symbol zxing-cpp located and sized but could not read: its corners, modules a side."""

    quad: Quad
    size: int


@dataclass(frozen=True)
class Detection:
    """What one decoder call found: decoded codes, plus symbols located but not decoded (and
    of those, the ones whose size is known)."""

    codes: list[DecodedCode]
    failed_quads: list[Quad]
    located_grids: list[LocatedGrid] = field(default_factory=list)


_EMPTY = Detection([], [])


def bytes_to_text(raw: bytes, charset_text: str | None = None) -> str:
    """Turn a symbol's raw bytes into text.

    Strict UTF-8 first (every health-code format is ASCII, a subset). Otherwise the decoder's own
    charset-aware text (zxing-cpp honours ECI designators and recognises Shift-JIS); otherwise
    ISO 8859-1, the default byte-mode charset of the QR standard, which maps every byte to one
    character so nothing is lost and the verifier rejects it as malformed.
    """
    try:
        return raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        pass
    if charset_text and "\ufffd" not in charset_text:
        return charset_text
    return raw.decode("latin-1")


def _quad_from_position(position: Any) -> Quad:
    return tuple(
        (float(p.x), float(p.y))
        for p in (
            position.top_left,
            position.top_right,
            position.bottom_right,
            position.bottom_left,
        )
    )


def read_zxing(
    gray: GrayFrame,
    *,
    binarizer: str = "local",
    try_harder: bool = True,
    pure: bool = False,
    scale: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Detection:
    """zxing-cpp on a grayscale image; `scale`/`offset` map corners back to the original frame.
    `pure`: the image is one clean, upright symbol in its quiet zone (a sampled grid redrawn)."""
    binarizers = {
        "local": zxingcpp.Binarizer.LocalAverage,
        "global": zxingcpp.Binarizer.GlobalHistogram,
        "fixed": zxingcpp.Binarizer.FixedThreshold,
    }
    try:
        found = zxingcpp.read_barcodes(
            np.ascontiguousarray(gray),
            formats=_QR_FORMATS,
            try_rotate=try_harder,
            try_downscale=try_harder,
            try_invert=try_harder,
            text_mode=zxingcpp.TextMode.Plain,
            binarizer=binarizers[binarizer],
            is_pure=pure,
            return_errors=True,
        )
    except Exception as exc:  # noqa: BLE001 - a decoder fault must never stop the scanner
        log.debug("zxing-cpp failed: %r", exc)
        return _EMPTY
    codes: list[DecodedCode] = []
    failed: list[Quad] = []
    grids: list[LocatedGrid] = []
    for symbol in found:
        quad = map_quad(_quad_from_position(symbol.position), scale, offset)
        if symbol.valid:
            raw = bytes(symbol.bytes)
            codes.append(DecodedCode(bytes_to_text(raw, symbol.text), raw, "zxing-cpp", quad))
        else:
            failed.append(quad)
            size = _symbol_size(symbol)
            if size is not None:
                grids.append(LocatedGrid(quad, size))
    return Detection(codes, failed, grids)


def _symbol_size(symbol: Any) -> int | None:
    """Modules a side of a QR symbol zxing-cpp located (its version read from the symbol's
    version or format information, or its finders' distance), None for a Micro QR or unknown."""
    try:
        extra = symbol.extra
    except AttributeError:  # a zxing-cpp release that reports no extra fields
        return None
    version = extra.get("Version") if isinstance(extra, dict) else None
    if not isinstance(version, str) or not version.isdigit() or not 1 <= int(version) <= 40:
        return None
    return 17 + 4 * int(version)


def read_pyzbar(
    gray: GrayFrame, *, scale: float = 1.0, offset: tuple[float, float] = (0.0, 0.0)
) -> Detection:
    """pyzbar (libzbar) on a grayscale image; its output is raw bytes."""
    from pyzbar import pyzbar  # noqa: PLC0415 - libzbar is loaded only when the fallback runs

    try:
        found = pyzbar.decode(np.ascontiguousarray(gray), symbols=[pyzbar.ZBarSymbol.QRCODE])
    except Exception as exc:  # noqa: BLE001 - pyzbar raises ValueError on structured append
        log.debug("pyzbar failed: %r", exc)
        return _EMPTY
    codes = []
    for symbol in found:
        raw = bytes(symbol.data)
        points = tuple((float(p.x), float(p.y)) for p in symbol.polygon)
        codes.append(
            DecodedCode(bytes_to_text(raw), raw, "pyzbar", map_quad(points, scale, offset))
        )
    return Detection(codes, [])


def map_quad(quad: Quad, scale: float, offset: tuple[float, float]) -> Quad:
    """Corners found in an image scaled by `scale` and cut at `offset`, in the original frame."""
    if scale == 1.0 and offset == (0.0, 0.0):
        return quad
    return tuple((x / scale + offset[0], y / scale + offset[1]) for x, y in quad)
