"""Reed-Solomon decoding over QR's GF(256), correcting errors and erasures (known-unsure places)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_PRIMITIVE = 0x11D  # x^8 + x^4 + x^3 + x^2 + 1, QR's field

Codewords = npt.NDArray[np.uint8]


def _tables() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    exp = np.zeros(512, dtype=np.int64)
    log = np.zeros(256, dtype=np.int64)
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= _PRIMITIVE
    exp[255:510] = exp[:255]
    return exp, log


_EXP, _LOG = _tables()
_EXP_LIST: list[int] = _EXP.tolist()
_LOG_LIST: list[int] = _LOG.tolist()

Poly = list[int]  # coefficients, lowest degree first


def _mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP_LIST[_LOG_LIST[a] + _LOG_LIST[b]]


def _inverse(a: int) -> int:
    return _EXP_LIST[255 - _LOG_LIST[a]]


def _poly_mul(p: Poly, q: Poly, limit: int | None = None) -> Poly:
    """p * q, its terms below x^`limit` only when given."""
    length = len(p) + len(q) - 1 if limit is None else min(limit, len(p) + len(q) - 1)
    product = [0] * length
    exp, log = _EXP_LIST, _LOG_LIST
    logs_q = [(j, log[b]) for j, b in enumerate(q) if b]
    for i, a in enumerate(p):
        if a:
            log_a = log[a]
            for j, log_b in logs_q:
                if i + j >= length:
                    break
                product[i + j] ^= exp[log_a + log_b]
    return product


def _from_roots(locators: Sequence[int]) -> Poly:
    """The product of (1 + X x) over the `locators` X."""
    poly = [1]
    exp, log = _EXP_LIST, _LOG_LIST
    for locator in locators:
        log_x = log[locator]
        following = [*poly, 0]
        for i, coefficient in enumerate(poly):
            if coefficient:
                following[i + 1] ^= exp[log[coefficient] + log_x]
        poly = following
    return poly


def _evaluate(poly: Poly, x: int) -> int:
    total = 0
    for coefficient in reversed(poly):
        total = _mul(total, x) ^ coefficient
    return total


def syndromes(received: Codewords, check_count: int) -> Poly:
    """S_j = r(alpha^j) for j below `check_count` (QR's generator has its roots from alpha^0);
    all zero for a codeword. `received[0]` is the highest-degree coefficient."""
    present = np.flatnonzero(received)
    if len(present) == 0:
        return [0] * check_count
    degree = len(received) - 1 - present
    logs = _LOG[received[present].astype(np.intp)]
    powers = (logs[None, :] + np.arange(check_count)[:, None] * degree[None, :]) % 255
    return [int(value) for value in np.bitwise_xor.reduce(_EXP[powers], axis=1)]


def _berlekamp_massey(sequence: Sequence[int]) -> Poly:
    """The shortest linear recurrence (connection polynomial) generating `sequence`."""
    exp, log = _EXP_LIST, _LOG_LIST
    room = 2 * len(sequence) + 2
    current, previous = [1] + [0] * room, [1] + [0] * room
    length, gap, last = 0, 1, 1
    for n, value in enumerate(sequence):
        discrepancy = value
        for i in range(1, length + 1):
            coefficient, earlier = current[i], sequence[n - i]
            if coefficient and earlier:
                discrepancy ^= exp[log[coefficient] + log[earlier]]
        if discrepancy == 0:
            gap += 1
            continue
        scale = (log[discrepancy] - log[last]) % 255
        saved = current.copy() if 2 * length <= n else None
        for i in range(len(sequence) + 1 - gap):
            coefficient = previous[i]
            if coefficient:
                current[i + gap] ^= exp[log[coefficient] + scale]
        if saved is not None:
            previous, length, last, gap = saved, n + 1 - length, discrepancy, 1
        else:
            gap += 1
    degree = max((i for i, coefficient in enumerate(current) if coefficient), default=0)
    return current[: degree + 1]


def decode(
    received: Codewords, check_count: int, erasures: Sequence[int] = (), spare: int = 0
) -> tuple[Codewords, int] | None:
    """The codeword nearest `received` (data then `check_count` check codewords) with the
    codewords at `erasures` (indices) treated as unknown, and how many other codewords were
    wrong; None when that needs more than the code can correct while leaving `spare` check
    codewords unused: 2 x errors + erasures <= check_count - spare. Spare checks make a
    wrong correction of a word beyond reach unlikely (about 256^-spare)."""
    length = len(received)
    if len(erasures) > check_count - spare or length > 255:
        return None
    syndrome = syndromes(received, check_count)
    if not any(syndrome):
        return received.copy(), 0
    erasure_locator = _from_roots([_EXP_LIST[length - 1 - index] for index in erasures])
    # Forney's modified syndromes: the erasures' share removed, what remains is a run of
    # syndromes of the errors alone, whose locator Berlekamp-Massey finds
    modified = _poly_mul(erasure_locator, syndrome, check_count)
    error_locator = _berlekamp_massey(modified[len(erasures) :])
    errors = len(error_locator) - 1
    if 2 * errors + len(erasures) > check_count - spare:
        return None
    locator = _poly_mul(error_locator, erasure_locator)
    # Chien search: a wrong codeword at index k is a root alpha^-(length-1-k) of the locator
    degree = length - 1 - np.arange(length)
    values = np.zeros(length, dtype=np.int64)
    for power, coefficient in enumerate(locator):
        if coefficient:
            values ^= _EXP[(_LOG_LIST[coefficient] - power * degree) % 255]
    wrong = np.flatnonzero(values == 0)
    if len(wrong) != len(locator) - 1:
        return None
    evaluator = _poly_mul(syndrome, locator, check_count)
    derivative = [locator[i] if i % 2 == 1 else 0 for i in range(1, len(locator))]
    corrected = received.copy()
    for index in wrong.tolist():
        position = _EXP_LIST[length - 1 - index]
        inverse = _inverse(position)
        denominator = _evaluate(derivative, inverse)
        if denominator == 0:
            return None
        magnitude = _mul(_mul(position, _evaluate(evaluator, inverse)), _inverse(denominator))
        corrected[index] ^= magnitude
    if any(syndromes(corrected, check_count)):
        return None
    return corrected, errors


def encode_checks(data: Codewords, check_count: int) -> Codewords:
    """The `check_count` check codewords QR appends to `data` (for building test symbols)."""
    generator: Poly = [1]
    for power in range(check_count):
        generator = _poly_mul(generator, [_EXP_LIST[power], 1])
    # generator lowest-first; divide data * x^check_count by it (highest-first long division)
    divisor = list(reversed(generator))
    remainder = [int(value) for value in data] + [0] * check_count
    for i in range(len(data)):
        factor = remainder[i]
        if factor:
            for j in range(1, len(divisor)):
                remainder[i + j] ^= _mul(divisor[j], factor)
    return np.array(remainder[len(data) :], dtype=np.uint8)
