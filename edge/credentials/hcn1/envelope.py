"""The HCN1 text envelope: prefix, Base45 and bounded zlib around the COSE bytes."""

from __future__ import annotations

import re
import zlib

from edge.credentials.common.base45 import b45decode, b45encode
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.common.inflate import bounded_inflate

PREFIX = "HCN1:"
MAX_TEXT_CHARS = 2048
_OTHER_VERSION = re.compile(r"HCN[0-9]{1,3}:")


def text_to_cose(text: str) -> bytes:
    """Unwrap QR text into COSE bytes, enforcing the text and decompression caps."""
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        raise MalformedCodeError("code text missing or longer than 2 KiB")
    if not text.startswith(PREFIX):
        if _OTHER_VERSION.match(text):
            raise UnsupportedCodeError("code format version not supported")
        raise MalformedCodeError("code text does not start with HCN1:")
    return inflate(b45decode(text[len(PREFIX) :]))


def cose_to_text(cose: bytes) -> str:
    """Wrap COSE bytes as QR text (maximum zlib compression)."""
    return PREFIX + b45encode(zlib.compress(cose, 9))


def inflate(compressed: bytes) -> bytes:
    """Decompress one complete zlib stream of at most 16 KiB with nothing after it.

    Bits that deflate ignores must be zero, as every encoder writes them, so they cannot be
    altered without changing the code: the padding after a stored-block header and the unused
    high bits of the final deflate byte.
    """
    output = bounded_inflate(compressed)
    first = compressed[2]
    if first & 0b110 == 0:  # the first block is stored: its header byte is padded with zeros
        if first > 1:
            raise MalformedCodeError("non-zero padding bits in the deflate stream")
        if first == 1 and len(compressed) == len(output) + 11:
            return output  # one final stored block: no bits left over at the end
    last = len(compressed) - 5  # the final deflate byte sits just before the Adler-32
    value = compressed[last]
    if value:
        altered = bytearray(compressed)
        altered[last] = value & ~(1 << (value.bit_length() - 1))
        try:
            unchanged = bounded_inflate(bytes(altered)) == output
        except MalformedCodeError:
            unchanged = False
        if unchanged:
            raise MalformedCodeError("non-zero padding bits in the deflate stream")
    return output
