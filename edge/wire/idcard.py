"""Resident ID numbers (GB 11643): normalisation and the ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

ID_LENGTH = 18
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"
# Full-width digits and letters as a card reader or an input method may deliver them.
_FULL_WIDTH = str.maketrans(
    {**{0xFF10 + d: str(d) for d in range(10)}, 0xFF38: "X", 0xFF58: "X", ord("x"): "X"}
)


def check_character(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise_id(text: str) -> str | None:
    """The ID number as sent to a platform (ASCII digits, upper-case X), or None when the text is
    not a resident ID number with a correct check character."""
    value = text.strip().translate(_FULL_WIDTH)
    if len(value) != ID_LENGTH or not value.isascii():
        return None
    body, check = value[:17], value[17]
    if not body.isdigit() or not (check.isdigit() or check == "X"):
        return None
    if check_character(body) != check:
        return None
    return value
