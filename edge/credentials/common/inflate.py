"""Decompressing a credential's zlib stream within a fixed bound."""

from __future__ import annotations

import zlib

from edge.credentials.common.errors import MalformedCodeError

MAX_DECOMPRESSED_BYTES = 16 * 1024


def bounded_inflate(compressed: bytes) -> bytes:
    """Decompress one complete zlib stream of at most 16 KiB with nothing after it (any level)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS)
    try:
        output = inflater.decompress(compressed, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error:
        raise MalformedCodeError("not a valid zlib stream") from None
    if len(output) > MAX_DECOMPRESSED_BYTES:
        raise MalformedCodeError("decompressed code larger than 16 KiB")
    if not inflater.eof:
        raise MalformedCodeError("zlib stream is truncated")
    if inflater.unused_data:
        raise MalformedCodeError("data after the end of the zlib stream")
    return output
