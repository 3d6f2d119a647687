"""No loss on nominal photos: at camera size the chain reads every code plain zxing-cpp reads."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from bench.decode import Sample, iter_samples, plain_zxing, score
from bench.held_phone import at_camera_size, presentation
from edge.ports import GrayFrame
from edge.scan.chain import DecoderChain
from edge.scan.preprocess import u8

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "qr-photos"

Still = tuple[str, Sample, GrayFrame]


@pytest.fixture(scope="module")
def nominal_stills() -> list[Still]:
    folder = PHOTOS / "boofcv" / "nominal"
    if not folder.is_dir():
        pytest.skip("the development photo set is not here")
    stills: list[Still] = []
    for sample in iter_samples(folder.parent.parent):
        if sample.path.parent == folder:
            image = cv2.imread(str(sample.path), cv2.IMREAD_GRAYSCALE)
            if image is not None:
                stills.append((sample.path.name, sample, at_camera_size(u8(image))))
    return stills


def test_the_chain_reads_every_code_plain_zxing_reads_on_nominal_photos(
    nominal_stills: list[Still],
) -> None:
    chain = DecoderChain()
    lost = []
    for name, sample, still in nominal_stills:
        ours = score(sample, [code.text for code in chain.decode(still).codes])
        theirs = score(sample, plain_zxing(still))
        if ours < theirs:
            lost.append(name)
    assert lost == []


def test_a_presentation_is_seeded_and_made_of_fifteen_different_frames(
    nominal_stills: list[Still],
) -> None:
    _, _, still = nominal_stills[0]
    first = list(presentation(still, "photo", seed=1))
    again = list(presentation(still, "photo", seed=1))
    other = list(presentation(still, "photo", seed=2))
    assert len(first) == 15
    assert all((a == b).all() for a, b in zip(first, again, strict=True))
    assert not (first[0] == other[0]).all()
    assert not (first[0] == first[1]).all()
