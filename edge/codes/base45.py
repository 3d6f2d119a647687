"""Base45 (RFC 9285) encoding and strict decoding."""

from __future__ import annotations

from edge.codes.errors import MalformedCodeError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUES = {char: index for index, char in enumerate(ALPHABET)}


def b45encode(data: bytes) -> str:
    """Encode bytes as Base45 text."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode Base45 text; any character, length or value outside RFC 9285 is rejected."""
    if len(text) % 3 == 1:
        raise MalformedCodeError("Base45 text has an impossible length")
    values = _VALUES
    try:
        digits = [values[char] for char in text]
    except KeyError:
        raise MalformedCodeError("Base45 text contains a character outside the alphabet") from None
    out = bytearray()
    full = len(digits) - len(digits) % 3
    for i in range(0, full, 3):
        n = digits[i] + digits[i + 1] * 45 + digits[i + 2] * 2025
        if n > 0xFFFF:
            raise MalformedCodeError("Base45 triple exceeds 16 bits")
        out += n.to_bytes(2, "big")
    if full < len(digits):
        n = digits[full] + digits[full + 1] * 45
        if n > 0xFF:
            raise MalformedCodeError("Base45 pair exceeds 8 bits")
        out.append(n)
    return bytes(out)
