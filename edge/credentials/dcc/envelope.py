"""The DCC text envelope: `HC1:` prefix, Base45 and bounded zlib (any level) around COSE bytes."""

from __future__ import annotations

import zlib

from edge.codes.base45 import b45decode, b45encode
from edge.codes.envelope import bounded_inflate
from edge.codes.errors import MalformedCodeError

PREFIX = "HC1:"
MAX_TEXT_CHARS = 4500
"""A version 40 QR code holds at most 4,296 alphanumeric characters."""


def text_to_cose(text: str) -> bytes:
    """Unwrap QR text into COSE bytes, enforcing the text and decompression caps."""
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        raise MalformedCodeError("certificate text missing or longer than a QR code holds")
    if not text.startswith(PREFIX):
        raise MalformedCodeError("certificate text does not start with HC1:")
    return bounded_inflate(b45decode(text[len(PREFIX) :]))


def cose_to_text(cose: bytes, level: int = 9) -> str:
    """Wrap COSE bytes as QR text (zlib at `level`)."""
    return PREFIX + b45encode(zlib.compress(cose, level))
