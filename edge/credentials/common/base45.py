"""Base45 (RFC 9285) encoding and strict decoding."""

from __future__ import annotations

import struct

from edge.credentials.common.errors import MalformedCodeError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
_DIGITS = bytes(
    ALPHABET.index(chr(code)) if chr(code) in ALPHABET else _INVALID for code in range(256)
)


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
    try:
        digits = text.encode("ascii").translate(_DIGITS)
    except UnicodeEncodeError:
        raise MalformedCodeError("Base45 text contains a character outside the alphabet") from None
    if _INVALID in digits:
        raise MalformedCodeError("Base45 text contains a character outside the alphabet")
    full = len(digits) - len(digits) % 3
    values = [
        c + d * 45 + e * 2025
        for c, d, e in zip(digits[0:full:3], digits[1:full:3], digits[2:full:3], strict=True)
    ]
    if values and max(values) > 0xFFFF:
        raise MalformedCodeError("Base45 triple exceeds 16 bits")
    out = bytearray(struct.pack(f">{len(values)}H", *values))
    if full < len(digits):
        n = digits[full] + digits[full + 1] * 45
        if n > 0xFF:
            raise MalformedCodeError("Base45 pair exceeds 8 bits")
        out.append(n)
    return bytes(out)
