"""A sampled symbol's fixed parts redrawn, and its codewords corrected with erasures."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.scan import codewords, layout, modules, reedsolomon
from edge.scan.decoders import read_zxing

Bits = npt.NDArray[np.bool_]
DARK, LIGHT = 40.0, 200.0


def _symbol(text: str, version: int, level: str) -> Bits:
    made = segno.make_qr(text, version=version, error=level.lower(), boost_error=False)
    return np.array(made.matrix, dtype=bool)


def _values(bits: Bits) -> npt.NDArray[np.float32]:
    return np.where(bits, DARK, LIGHT).astype(np.float32)


def _stream(bits: Bits, version: int, mask: int) -> npt.NDArray[np.uint8]:
    rows, columns = codewords.data_order(version)
    usable = len(rows) // 8 * 8
    flip = codewords.mask_pattern(mask, bits.shape[0])
    placed = bits[rows[:usable], columns[:usable]] ^ flip[rows[:usable], columns[:usable]]
    return np.packbits(placed.reshape(-1, 8), axis=1).ravel()


def _codeword_cells(version: int, index: int) -> tuple[npt.NDArray[np.intp], ...]:
    rows, columns = codewords.data_order(version)
    return rows[index * 8 : index * 8 + 8], columns[index * 8 : index * 8 + 8]


@pytest.mark.parametrize(
    ("version", "level"),
    [(v, "LMQH"[v % 4]) for v in range(1, 41)] + [(v, lv) for v in (1, 7, 40) for lv in "LMQH"],
)
def test_every_block_of_a_made_symbol_is_a_codeword(version: int, level: str) -> None:
    bits = _symbol("GATE 42", version, level)
    assert bits.shape == (layout.size_of(version),) * 2
    assert layout.version_of(bits.shape[0]) == version
    format_data = layout.format_information(bits)
    assert format_data is not None
    assert codewords.LEVELS[format_data >> 3] == level
    stream = _stream(bits, version, format_data & 7)
    for block in codewords.blocks(version, level):
        assert not any(reedsolomon.syndromes(stream[block.positions], block.check_count))


def test_no_other_size_is_a_symbols() -> None:
    sizes = {layout.size_of(version) for version in range(1, 41)}
    assert [size for size in range(0, 200) if layout.version_of(size) is not None] == sorted(sizes)


def test_data_modules_number_what_the_standard_gives() -> None:
    for version in range(1, 41):
        raw = (16 * version + 128) * version + 64
        if version >= 2:
            count = version // 7 + 2
            raw -= (25 * count - 10) * count - 55
        if version >= 7:
            raw -= 36
        assert len(codewords.data_order(version)[0]) == raw


def test_the_version_information_of_version_7_is_the_standards() -> None:
    bits = _symbol("GATE", 7, "L")
    size = bits.shape[0]
    drawn = layout.redrawn(np.zeros_like(bits), None)
    assert np.array_equal(drawn[:6, size - 11 : size - 8], bits[:6, size - 11 : size - 8])
    assert np.array_equal(drawn[size - 11 : size - 8, :6], bits[size - 11 : size - 8, :6])


@pytest.mark.parametrize("version", [1, 3, 7, 12])
def test_redrawing_restores_every_fixed_part_and_leaves_the_data(version: int) -> None:
    bits = _symbol("HC1:6BFOXN", version, "M")
    damaged = bits.copy()
    rng = np.random.default_rng(version)
    damaged[rng.random(bits.shape) < 0.2] ^= True
    fixed = layout.function_modules(version)
    restored = layout.redrawn(damaged, layout.format_information(bits))
    assert np.array_equal(restored[fixed], bits[fixed])
    assert np.array_equal(restored[~fixed], damaged[~fixed])


def test_a_symbol_with_a_finder_washed_out_reads_once_its_fixed_parts_are_redrawn() -> None:
    bits = _symbol("HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65", 3, "Q")
    values = _values(bits)
    values[:8, -8:] = LIGHT  # glare over the top-right finder
    found = read_zxing(modules._render(values < 120.0), binarizer="fixed", pure=True)
    assert not found.codes
    assert modules.read_values(values, erasing=False) == b"HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65"


def test_codewords_too_many_to_correct_read_when_the_unsure_ones_are_erased() -> None:
    text = "GATE-7 ENTRANCE"
    bits = _symbol(text, 1, "M")  # one block, 10 check codewords: 5 errors, or 8 erasures
    values = _values(bits)
    for index in (0, 3, 5, 9, 12, 17, 20):  # 7 codewords wrong, each only just
        cells = _codeword_cells(1, index)
        values[cells] = np.where(bits[cells], 125.0, 112.0)
    assert modules.read_values(values, erasing=False) is None
    assert modules.read_values(values, erasing=True) == text.encode()


def test_confident_wrong_codewords_beyond_reach_stay_unread() -> None:
    text = "GATE-7 ENTRANCE"
    bits = _symbol(text, 1, "M")
    values = _values(bits)
    for index in (0, 3, 5, 9, 12, 17, 20):  # the same 7, flipped outright: nothing to erase
        cells = _codeword_cells(1, index)
        values[cells] = np.where(bits[cells], LIGHT, DARK)
    assert modules.read_values(values, erasing=True) is None


@settings(max_examples=80, deadline=None)
@given(
    st.binary(min_size=1, max_size=120),
    st.integers(2, 30),
    st.data(),
)
def test_errors_and_erasures_within_reach_are_corrected(
    data: bytes, check_count: int, draw: st.DataObject
) -> None:
    message = np.frombuffer(data, dtype=np.uint8)
    word = np.concatenate([message, reedsolomon.encode_checks(message, check_count)])
    erased = draw.draw(st.integers(0, check_count))
    wrong = draw.draw(st.integers(0, (check_count - erased) // 2))
    places = draw.draw(st.permutations(range(len(word))))[: erased + wrong]
    received = word.copy()
    for place in places:
        received[place] ^= draw.draw(st.integers(0 if place in places[:erased] else 1, 255))
    result = reedsolomon.decode(received, check_count, places[:erased])
    assert result is not None
    assert np.array_equal(result[0], word)


@settings(max_examples=80, deadline=None)
@given(st.binary(min_size=3, max_size=255), st.integers(2, 30), st.lists(st.integers(0, 254)))
def test_any_received_word_gives_a_codeword_or_nothing(
    received: bytes, check_count: int, erasures: list[int]
) -> None:
    word = np.frombuffer(received, dtype=np.uint8)
    places = sorted({e for e in erasures if e < len(word)})
    result = reedsolomon.decode(word, check_count, places, spare=2)
    if result is not None:
        assert not any(reedsolomon.syndromes(result[0], check_count))
