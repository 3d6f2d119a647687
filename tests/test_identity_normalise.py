"""Document numbers in canonical form: any text is accepted, the form is stable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edge.credentials.binding import normalise_document_number, subject_binding


@given(st.text())
def test_any_text_normalises_without_error_and_idempotently(text: str) -> None:
    once = normalise_document_number(text)
    assert normalise_document_number(once) == once
    assert not any(c.isspace() for c in once)


@given(st.from_regex(r"[0-9A-Za-z]{6,18}", fullmatch=True), st.sampled_from([" ", "\t", "\u3000"]))
def test_case_spacing_and_full_width_do_not_change_the_binding(number: str, space: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)  # U+FF01.. forms
    spaced = space.join(number[i : i + 4] for i in range(0, len(number), 4))
    expected = subject_binding("CN-GD", number.upper())
    for variant in (number.lower(), full_width, spaced, f" {number} "):
        assert subject_binding("CN-GD", variant) == expected
