"""A QR symbol's fixed parts: where they are, how far a sampled grid is from them, redrawn clean."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

Bits = npt.NDArray[np.bool_]
Cells = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]

_FORMAT_MASK = 0x5412
_FORMAT_GENERATOR = 0x537
_VERSION_GENERATOR = 0x1F25
FORMAT_REACH = 3  # bit errors a format word's BCH code corrects


def _format_words() -> npt.NDArray[np.int64]:
    words = []
    for data in range(32):
        remainder = data << 10
        for bit in range(14, 9, -1):
            if remainder & (1 << bit):
                remainder ^= _FORMAT_GENERATOR << (bit - 10)
        words.append(((data << 10) | remainder) ^ _FORMAT_MASK)
    return np.array(words, dtype=np.int64)


_FORMAT_WORDS = _format_words()


_POPCOUNT = np.zeros(1 << 15, dtype=np.uint8)  # set bits of every 15-bit word
for _bit in range(15):
    _POPCOUNT += ((np.arange(1 << 15) >> _bit) & 1).astype(np.uint8)
_BIT_WEIGHTS = 1 << np.arange(14, -1, -1)
_FIRST_COPY: Cells = (
    np.array([8] * 6 + [8, 8, 7] + list(range(5, -1, -1))),
    np.array(list(range(6)) + [7, 8, 8] + [8] * 6),
)


def _second_copy(size: int) -> Cells:
    return (
        np.concatenate((np.arange(size - 1, size - 8, -1), np.full(8, 8))),
        np.concatenate((np.full(7, 8), np.arange(size - 8, size))),
    )


def _format_distances(bits: Bits, cells: Cells) -> npt.NDArray[np.uint8]:
    """Bit errors between the format information read at `cells` and each valid word."""
    word = int(bits[cells].astype(np.int64) @ _BIT_WEIGHTS)
    return np.asarray(_POPCOUNT[_FORMAT_WORDS ^ word])


def nearest_format(bits: Bits) -> tuple[int, int]:
    """The valid format word nearest either copy: its 5 data bits, and how many bits off."""
    distances = np.minimum(
        _format_distances(bits, _FIRST_COPY), _format_distances(bits, _second_copy(bits.shape[0]))
    )
    data = int(np.argmin(distances))
    return data, int(distances[data])


def format_information(bits: Bits) -> int | None:
    """The format information's 5 data bits (level bits, then mask) from the nearer valid word
    of either copy; None when both copies are more than 3 bits from any."""
    data, distance = nearest_format(bits)
    return None if distance > FORMAT_REACH else data


def grid_quality(bits: Bits) -> int:
    """How far a sampled grid is from a symbol's fixed parts: timing-pattern modules wrong plus
    the bit errors of the nearer format-information copy (0 for a perfect grid)."""
    size = bits.shape[0]
    span = np.arange(8, size - 8)
    expected = span % 2 == 0
    timing = int((bits[6, span] != expected).sum() + (bits[span, 6] != expected).sum())
    return timing + nearest_format(bits)[1]


ALIGNMENT = np.ones((5, 5), dtype=np.bool_)  # an alignment pattern's dark modules
ALIGNMENT[1:4, 1:4] = False
ALIGNMENT[2, 2] = True


def size_of(version: int) -> int:
    """Modules a side of a QR symbol of `version` (1 to 40)."""
    return 17 + 4 * version


def version_of(size: int) -> int | None:
    """The version of a symbol `size` modules wide, None when no QR symbol is."""
    return (size - 17) // 4 if 21 <= size <= 177 and size % 4 == 1 else None


def alignment_positions(version: int) -> list[int]:
    """Row (and column) centres of a version's alignment patterns."""
    if version == 1:
        return []
    count = version // 7 + 2
    step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
    positions = [version * 4 + 10 - step * i for i in range(count - 1)]
    return [6, *reversed(positions)]


def _alignment_centres(version: int) -> list[tuple[int, int]]:
    centres = alignment_positions(version)
    last = len(centres) - 1
    return [
        (row, column)
        for i, row in enumerate(centres)
        for j, column in enumerate(centres)
        if (i, j) not in ((0, 0), (0, last), (last, 0))  # where the finders are
    ]


@cache
def function_modules(version: int) -> Bits:
    """Modules that carry no data: finders, separators, format and version information,
    timing and alignment patterns."""
    size = size_of(version)
    fixed = np.zeros((size, size), dtype=np.bool_)
    fixed[:9, :9] = True
    fixed[:9, size - 8 :] = True
    fixed[size - 8 :, :9] = True
    fixed[6, :] = True
    fixed[:, 6] = True
    for row, column in _alignment_centres(version):
        fixed[row - 2 : row + 3, column - 2 : column + 3] = True
    if version >= 7:
        fixed[:6, size - 11 : size - 8] = True
        fixed[size - 11 : size - 8, :6] = True
    return fixed


def _version_word(version: int) -> int:
    remainder = version
    for _ in range(12):
        remainder = (remainder << 1) ^ ((remainder >> 11) * _VERSION_GENERATOR)
    return version << 12 | remainder


@cache
def _clean_parts(version: int) -> tuple[Bits, Bits]:
    """Which modules are redrawn, and dark where they are: finders with their separators,
    timing and alignment patterns, the dark module and the version information."""
    size = size_of(version)
    drawn = np.zeros((size, size), dtype=np.bool_)
    dark = np.zeros((size, size), dtype=np.bool_)
    finder = np.ones((7, 7), dtype=np.bool_)
    finder[1:6, 1:6] = False
    finder[2:5, 2:5] = True
    for row, column in ((0, 0), (0, size - 7), (size - 7, 0)):
        dark[row : row + 7, column : column + 7] = finder
    drawn[:8, :8] = drawn[:8, size - 8 :] = drawn[size - 8 :, :8] = True
    drawn[6, 8 : size - 8] = drawn[8 : size - 8, 6] = True
    dark[6, 8 : size - 8] = dark[8 : size - 8, 6] = np.arange(8, size - 8) % 2 == 0
    for row, column in _alignment_centres(version):
        drawn[row - 2 : row + 3, column - 2 : column + 3] = True
        dark[row - 2 : row + 3, column - 2 : column + 3] = ALIGNMENT
    drawn[size - 8, 8] = dark[size - 8, 8] = True
    if version >= 7:
        word = _version_word(version)
        for i in range(18):
            near, far = size - 11 + i % 3, i // 3
            drawn[far, near] = drawn[near, far] = True
            dark[far, near] = dark[near, far] = bool(word >> i & 1)
    return drawn, dark


def redrawn(bits: Bits, format_data: int | None) -> Bits:
    """`bits` with the fixed parts a version of its size has redrawn clean, and both format
    copies written from `format_data` (when known). A finder half washed out by glare or a
    smudged timing pattern carries no information but stops a reader that relies on them."""
    version = version_of(bits.shape[0])
    if version is None:
        return bits
    drawn, dark = _clean_parts(version)
    clean = np.where(drawn, dark, bits)
    if format_data is not None:
        word = int(_FORMAT_WORDS[format_data])
        values = np.array([bool(word >> bit & 1) for bit in range(14, -1, -1)])
        clean[_FIRST_COPY] = values
        clean[_second_copy(bits.shape[0])] = values
    return np.asarray(clean)
