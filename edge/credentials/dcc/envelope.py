"""The DCC text envelope: `HC1:` prefix, Base45 and bounded zlib (any level) around COSE bytes."""

from __future__ import annotations

import re
import zlib

from edge.credentials.common.base45 import b45decode, b45encode
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.common.inflate import bounded_inflate

PREFIX = "HC1:"
MAX_TEXT_CHARS = 4500
"""A version 40 QR code holds at most 4,296 alphanumeric characters."""
_PREFIX_LIKE = re.compile(r"[A-Z]{2,4}[0-9]{1,3}:")


def text_to_cose(text: str) -> bytes:
    """Unwrap QR text into COSE bytes, enforcing the text and decompression caps."""
    return bounded_inflate(b45decode(unprefix(text)))


def cose_to_text(cose: bytes, level: int = 9) -> str:
    """Wrap COSE bytes as QR text (zlib at `level`)."""
    return PREFIX + b45encode(zlib.compress(cose, level))


def unprefix(text: str) -> str:
    """The Base45 part of an HC1 text; an other prefix is unsupported, none at all malformed."""
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        raise MalformedCodeError("certificate text missing or longer than a QR code holds")
    if text.startswith(PREFIX):
        return text[len(PREFIX) :]
    if _PREFIX_LIKE.match(text):
        raise UnsupportedCodeError("credential prefix not supported")
    raise MalformedCodeError("certificate text does not start with HC1:")
