"""Bands of rows: the numpy image passes work a band at a time, so temporaries stay in cache."""

from __future__ import annotations

from collections.abc import Iterator

BAND_ROWS = 32


def row_bands(length: int, rows: int = BAND_ROWS) -> Iterator[tuple[int, int]]:
    """(top, bottom) of consecutive bands of `rows` rows covering rows 0 to `length`."""
    for top in range(0, length, rows):
        yield top, min(top + rows, length)
