"""Decoder chain on generated phone-screen frames, and decoder edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.scan import decoders
from edge.scan.chain import ROUNDS, DecoderChain
from edge.scan.decoders import bytes_to_text, read_pyzbar, read_zxing
from edge.scan.preprocess import resize_to, to_gray
from edge.sim.screens import ScreenStyle, code_modules, random_style, render_scene

TEXT = "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA"

STYLES = {
    "flat-small": ScreenStyle(code_width=150.0, noise_sigma=2.0),
    "flat-large": ScreenStyle(code_width=480.0, noise_sigma=2.0),
    "rotated": ScreenStyle(code_width=300.0, angle_deg=35.0, noise_sigma=3.0),
    "tilted": ScreenStyle(code_width=300.0, tilt=0.3, angle_deg=-15.0, noise_sigma=3.0),
    "blurred": ScreenStyle(code_width=320.0, blur_sigma=1.8, noise_sigma=3.0),
    "glare": ScreenStyle(code_width=320.0, glare=0.7, noise_sigma=3.0),
    "moire": ScreenStyle(code_width=320.0, moire=0.5, noise_sigma=3.0),
    "noisy": ScreenStyle(code_width=320.0, noise_sigma=8.0),
    "dim": ScreenStyle(code_width=320.0, brightness=0.55, noise_sigma=3.0),
    "dark-mode": ScreenStyle(code_width=320.0, dark_mode=True, noise_sigma=3.0),
}


@pytest.mark.parametrize("name", sorted(STYLES))
def test_chain_reads_generated_screens(name: str) -> None:
    frame = to_gray(render_scene(TEXT, STYLES[name], seed=7))
    result = DecoderChain(budget_ms=1000.0).decode(frame)
    assert [code.text for code in result.codes] == [TEXT]


def test_chain_finds_nothing_in_an_empty_scene() -> None:
    frame = to_gray(render_scene(None, ScreenStyle(noise_sigma=3.0), seed=1))
    assert DecoderChain().decode(frame).codes == []


def test_fallbacks_recover_what_the_primary_pass_misses() -> None:
    # a dim, low-contrast, blurred screen: count reads with and without the fallback passes
    rng = np.random.default_rng(3)
    plain, chained = DecoderChain(fallbacks=False), DecoderChain(budget_ms=1000.0)
    plain_hits = chain_hits = 0
    for seed in range(12):
        style = random_style(rng, difficulty=1.0)
        frame = to_gray(render_scene(TEXT, style, seed))
        plain_hits += any(c.text == TEXT for c in plain.decode(frame).codes)
        chain_hits += any(c.text == TEXT for c in chained.decode(frame).codes)
    assert chain_hits >= plain_hits
    assert chain_hits >= 9


def test_cheap_first_round_runs_even_when_the_budget_is_spent() -> None:
    # a clock that jumps a second per reading: every budget check finds the budget exhausted
    ticks = iter(range(10_000))
    chain = DecoderChain(budget_ms=1.0, timer=lambda: float(next(ticks)))
    result = chain.decode(to_gray(render_scene(None, ScreenStyle(noise_sigma=3.0), seed=1)))
    first_round = [name for name, _ in ROUNDS[0][1]]
    assert result.passes == ["frame", *first_round]  # and nothing from the later rounds


def test_each_fallback_pass_keeps_codes_at_their_place_in_the_frame() -> None:
    # every whole-frame pass, alone, on a code it can read: corners map back to the frame
    frame = to_gray(render_scene(TEXT, ScreenStyle(code_width=300.0, centre=(900.0, 300.0)), 2))
    capped, scale = resize_to(frame, 1280)
    for _roi_passes, frame_passes in ROUNDS:
        for name, run in frame_passes:
            found = run(capped, scale, (0.0, 0.0)).codes
            assert found, name
            xs = [p[0] for p in found[0].quad]
            assert 750 < sum(xs) / 4 < 1050, name


def test_hint_region_is_used_and_maps_back_to_frame_coordinates() -> None:
    frame = to_gray(render_scene(TEXT, ScreenStyle(code_width=260.0, centre=(900.0, 300.0)), 2))
    first = DecoderChain().decode(frame)
    assert first.codes
    again = DecoderChain().decode(frame, hint=first.codes[0].quad)
    assert again.passes[0] == "hint"
    assert again.found_by[TEXT] == "hint"
    xs = [p[0] for p in again.codes[0].quad]
    assert 750 < sum(xs) / 4 < 1050


def test_a_second_code_beside_the_hinted_one_is_read() -> None:
    left = to_gray(render_scene(TEXT, ScreenStyle(code_width=200.0, centre=(320.0, 360.0)), 6))
    right = to_gray(render_scene("HC1:B", ScreenStyle(code_width=200.0, centre=(960.0, 360.0)), 7))
    frame = np.ascontiguousarray(np.concatenate([left[:, :640], right[:, 640:]], axis=1))
    held = [c.quad for c in DecoderChain().decode(frame).codes if c.text == TEXT]
    assert held
    again = DecoderChain().decode(frame, hint=held[0])
    assert again.found_by == {TEXT: "hint", "HC1:B": "frame"}


def test_every_decoder_sees_grayscale_only() -> None:
    bgr = render_scene(TEXT, ScreenStyle(code_width=300.0), seed=4)
    gray = to_gray(bgr)
    assert gray.ndim == 2 and gray.dtype == np.uint8
    assert to_gray(np.dstack([bgr, bgr[:, :, :1]])).shape == gray.shape
    assert to_gray(gray.astype(np.uint16) * 200).dtype == np.uint8


def test_bytes_to_text_policy() -> None:
    assert bytes_to_text("Grüße".encode()) == "Grüße"
    assert bytes_to_text(b"caf\xe9", "café") == "café"
    assert bytes_to_text(b"caf\xe9") == "café"  # ISO 8859-1 fallback keeps every byte
    assert bytes_to_text(b"\xff\xfe", "\ufffd") == "ÿþ"


def test_binary_payload_is_kept_exactly() -> None:
    payload = bytes(range(256))[::3]
    image = np.kron(
        1 - np.array(segno.make(payload, error="l").matrix, dtype=np.uint8), np.ones((4, 4))
    )
    gray = np.pad((image * 255).astype(np.uint8), 16, constant_values=255)
    codes = read_zxing(gray).codes
    assert codes and codes[0].raw == payload


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 64).flatmap(
        lambda h: st.integers(1, 64).flatmap(
            lambda w: st.binary(min_size=h * w, max_size=h * w).map(
                lambda b: np.frombuffer(b, dtype=np.uint8).reshape(h, w)
            )
        )
    )
)
def test_decoders_never_raise_on_arbitrary_pixels(gray: np.ndarray) -> None:
    assert isinstance(read_zxing(gray).codes, list)
    assert isinstance(read_pyzbar(gray).codes, list)
    assert isinstance(DecoderChain(budget_ms=5.0).decode(gray).codes, list)


def test_code_modules_has_quiet_zone() -> None:
    modules = code_modules("X")
    assert modules.shape[0] == 21 + 8
    assert modules[:4].sum() == 0 and modules[:, -4:].sum() == 0


class _Located:
    """What zxing-cpp reports of a symbol it could not read: its `extra` fields."""

    def __init__(self, extra: object) -> None:
        self.extra = extra


@pytest.mark.parametrize(
    ("extra", "size"),
    [
        ({"Version": "1", "ECLevel": "M"}, 21),
        ({"Version": "40"}, 177),
        ({"Version": "M3"}, None),  # Micro QR: not sampled as a QR grid
        ({"Version": "41"}, None),
        ({}, None),
        (None, None),
        ("Version 3", None),
    ],
)
def test_a_located_symbols_size_comes_from_its_version(extra: object, size: int | None) -> None:
    assert decoders._symbol_size(_Located(extra)) == size


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(
        st.none(),
        st.text(),
        st.dictionaries(st.text(max_size=8), st.one_of(st.text(), st.integers(), st.none())),
    )
)
def test_any_extra_a_decoder_reports_gives_a_size_or_none(extra: object) -> None:
    size = decoders._symbol_size(_Located(extra))
    assert size is None or (21 <= size <= 177 and size % 4 == 1)


def test_a_decoder_that_reports_no_extra_fields_gives_no_size() -> None:
    assert decoders._symbol_size(object()) is None
