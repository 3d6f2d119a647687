"""A sampled symbol's codewords: read from its modules, corrected with the unsure ones erased."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from edge.scan import reedsolomon
from edge.scan.layout import function_modules, size_of

Bits = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float32]
Index = npt.NDArray[np.intp]

# check codewords per block and blocks per symbol, by version (index 0 unused), for the
# error-correction levels in the order the format information numbers them: M, L, H, Q
_CHECKS_PER_BLOCK = {
    "L": (0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28,
          28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    "M": (0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26,
          28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28),
    "Q": (0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28,
          30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    "H": (0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30,
          24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
}  # fmt: skip
_BLOCKS = {
    "L": (0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12,
          12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25),
    "M": (0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20,
          21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49),
    "Q": (0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25,
          27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68),
    "H": (0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30,
          32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81),
}  # fmt: skip
LEVELS = ("M", "L", "H", "Q")  # by the two level bits of the format information


@cache
def data_order(version: int) -> tuple[Index, Index]:
    """Rows and columns of the data modules in the order their bits are placed: column pairs
    from the right, up and down in turn, skipping the vertical timing pattern."""
    size = size_of(version)
    fixed = function_modules(version)
    rows: list[int] = []
    columns: list[int] = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = (right + 1) & 2 == 0
        for vertical in range(size):
            row = size - 1 - vertical if upward else vertical
            for column in (right, right - 1):
                if not fixed[row, column]:
                    rows.append(row)
                    columns.append(column)
        right -= 2
    return np.array(rows, dtype=np.intp), np.array(columns, dtype=np.intp)


_MASKS = (
    lambda row, column: (row + column) % 2 == 0,
    lambda row, column: row % 2 == 0,
    lambda row, column: column % 3 == 0,
    lambda row, column: (row + column) % 3 == 0,
    lambda row, column: (row // 2 + column // 3) % 2 == 0,
    lambda row, column: (row * column) % 2 + (row * column) % 3 == 0,
    lambda row, column: ((row * column) % 2 + (row * column) % 3) % 2 == 0,
    lambda row, column: ((row + column) % 2 + (row * column) % 3) % 2 == 0,
)


@cache
def mask_pattern(mask: int, size: int) -> Bits:
    """Modules the data mask `mask` inverts (shared: not to be written to)."""
    row, column = np.indices((size, size))
    return np.asarray(_MASKS[mask](row, column))


@dataclass(frozen=True)
class Block:
    """One Reed-Solomon block: where its codewords sit in the symbol's codeword stream."""

    positions: Index  # stream indices, data first, then check codewords
    check_count: int


@cache
def blocks(version: int, level: str) -> tuple[Block, ...]:
    """The symbol's blocks: data codewords interleaved across them first, then checks."""
    total = len(data_order(version)[0]) // 8
    count = _BLOCKS[level][version]
    checks = _CHECKS_PER_BLOCK[level][version]
    short_length = total // count
    short_count = count - total % count
    data_lengths = [short_length - checks + (0 if i < short_count else 1) for i in range(count)]
    data_positions: list[list[int]] = [[] for _ in range(count)]
    stream = 0
    for column in range(max(data_lengths)):
        for block in range(count):
            if column < data_lengths[block]:
                data_positions[block].append(stream)
                stream += 1
    check_positions: list[list[int]] = [[] for _ in range(count)]
    for _ in range(checks):
        for block in range(count):
            check_positions[block].append(stream)
            stream += 1
    return tuple(
        Block(np.array(data + check, dtype=np.intp), checks)
        for data, check in zip(data_positions, check_positions, strict=True)
    )


def corrected(
    bits: Bits, unsure: Scores, version: int, format_data: int, *, spare: int = 2
) -> Bits | None:
    """`bits` (dark modules, row by column; `format_data`: its format information's level
    bits and mask) with every block corrected, the codewords whose modules are least sure
    (higher `unsure`) erased first and more erased until the block decodes; None when a block
    does not. Erasing doubles what a block can correct where the image shows it cannot be
    trusted (glare, a crease, blur)."""
    size = bits.shape[0]
    level, mask = LEVELS[format_data >> 3], format_data & 7
    rows, columns = data_order(version)
    usable = len(rows) // 8 * 8
    rows, columns = rows[:usable], columns[:usable]
    flip = mask_pattern(mask, size)
    data_bits = (bits[rows, columns] ^ flip[rows, columns]).reshape(-1, 8)
    stream = np.packbits(data_bits, axis=1).ravel()
    doubt = unsure[rows, columns].reshape(-1, 8).max(axis=1)
    fixed_stream = stream.copy()
    for block in blocks(version, level):
        received = stream[block.positions]
        order = np.argsort(-doubt[block.positions], kind="stable")
        result = None
        reach = block.check_count - spare
        for erased in sorted({0, reach // 3, 2 * reach // 3, reach}):
            result = reedsolomon.decode(
                received, block.check_count, order[:erased].tolist(), spare=spare
            )
            if result is not None:
                break
        if result is None:
            return None
        fixed_stream[block.positions] = result[0]
    fixed = bits.copy()
    fixed_bits = np.unpackbits(fixed_stream).astype(np.bool_)
    fixed[rows, columns] = fixed_bits ^ flip[rows, columns]
    return fixed
