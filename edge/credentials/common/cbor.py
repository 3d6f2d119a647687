"""A strict, bounded CBOR (RFC 8949) decoder and encoder for the few types HCN1 uses.

A lenient mode, for credentials encoded by other issuers' software, also reads indefinite
lengths, floating-point numbers and any tag, within the same depth and item bounds.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import TypeAlias, Union

from edge.credentials.common.errors import MalformedCodeError

CborKey: TypeAlias = int | str
CborValue: TypeAlias = Union[
    int, float, bytes, str, bool, list["CborValue"], dict[CborKey, "CborValue"], "Tagged", None
]

MAX_DEPTH = 8
MAX_ITEMS = 256
_SIMPLE = {20: False, 21: True, 22: None}
_INDEFINITE = 31
_BREAK = 0xFF
_FLOAT_FORMATS = {25: ">e", 26: ">f", 27: ">d"}


class CborError(MalformedCodeError):
    """The bytes are not CBOR of the restricted kind HCN1 accepts."""


@dataclass(frozen=True)
class Tagged:
    """A tagged CBOR item (only tags the caller explicitly allows are decoded)."""

    tag: int
    value: CborValue


def loads(
    data: bytes,
    *,
    allowed_tags: frozenset[int] = frozenset(),
    max_depth: int = MAX_DEPTH,
    lenient: bool = False,
    max_items: int = MAX_ITEMS,
) -> CborValue:
    """Decode exactly one CBOR item filling `data`; anything unexpected raises CborError.

    `lenient` also accepts indefinite lengths, floats (finite ones) and any tag.
    """
    decoder = _Decoder(
        data, allowed_tags, max_depth=max_depth, lenient=lenient, max_items=max_items
    )
    value = decoder.item(0)
    if decoder.pos != len(data):
        raise CborError("trailing bytes after the CBOR item")
    return value


class _Decoder:
    def __init__(
        self,
        data: bytes,
        allowed_tags: frozenset[int],
        *,
        max_depth: int,
        lenient: bool,
        max_items: int,
    ) -> None:
        self.data = data
        self.pos = 0
        self.allowed_tags = allowed_tags
        self.max_depth = max_depth
        self.lenient = lenient
        self.max_items = max_items
        self.items = 0

    def head(self) -> tuple[int, int]:
        data, pos = self.data, self.pos
        if pos >= len(data):
            raise CborError("CBOR data ends early")
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            self.pos = pos + 1
            return major, info
        if info == _INDEFINITE and self.lenient and major in (2, 3, 4, 5):
            self.pos = pos + 1
            return major, -1
        if info > 27:
            raise CborError("indefinite length or reserved CBOR encoding")
        size = 1 << (info - 24)
        end = pos + 1 + size
        if end > len(data):
            raise CborError("CBOR argument ends early")
        self.pos = end
        return major, int.from_bytes(data[pos + 1 : end], "big")

    def item(self, depth: int) -> CborValue:
        if depth > self.max_depth:
            raise CborError("CBOR nesting too deep")
        self.items += 1
        if self.items > self.max_items:
            raise CborError("too many CBOR items")
        start = self.pos
        if self.lenient and self.pos < len(self.data):
            info = self.data[self.pos] & 0x1F
            if self.data[self.pos] >> 5 == 7 and info in _FLOAT_FORMATS:
                return self.floating(_FLOAT_FORMATS[info])
        major, arg = self.head()
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major in (2, 3):
            return self.string(major, arg) if arg >= 0 else self.chunks(major)
        if major == 4:
            if arg < 0:
                return self.indefinite_array(depth)
            if arg > len(self.data) - self.pos:
                raise CborError("CBOR array longer than the data")
            return [self.item(depth + 1) for _ in range(arg)]
        if major == 5:
            return self.map(arg, depth)
        if major == 6:
            if arg not in self.allowed_tags and not self.lenient:
                raise CborError(f"CBOR tag {arg} not allowed here")
            return Tagged(arg, self.item(depth + 1))
        if self.pos == start + 1 and arg in _SIMPLE:
            return _SIMPLE[arg]
        raise CborError("CBOR floats and other simple values are not allowed")

    def floating(self, layout: str) -> float:
        size = struct.calcsize(layout)
        end = self.pos + 1 + size
        if end > len(self.data):
            raise CborError("CBOR float ends early")
        (value,) = struct.unpack(layout, self.data[self.pos + 1 : end])
        self.pos = end
        if not math.isfinite(value):
            raise CborError("CBOR float is not finite")
        return float(value)

    def at_break(self) -> bool:
        if self.pos >= len(self.data):
            raise CborError("CBOR indefinite item ends early")
        if self.data[self.pos] == _BREAK:
            self.pos += 1
            return True
        return False

    def chunks(self, major: int) -> bytes | str:
        parts: list[bytes] = []
        while not self.at_break():
            self.items += 1
            if self.items > self.max_items:
                raise CborError("too many CBOR items")
            chunk_major, length = self.head()
            if chunk_major != major or length < 0:
                raise CborError("CBOR indefinite string has a bad chunk")
            end = self.pos + length
            if end > len(self.data):
                raise CborError("CBOR string longer than the data")
            parts.append(self.data[self.pos : end])
            self.pos = end
        raw = b"".join(parts)
        if major == 2:
            return raw
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CborError("CBOR text is not valid UTF-8") from None

    def indefinite_array(self, depth: int) -> list[CborValue]:
        values: list[CborValue] = []
        while not self.at_break():
            values.append(self.item(depth + 1))
        return values

    def string(self, major: int, length: int) -> bytes | str:
        end = self.pos + length
        if end > len(self.data):
            raise CborError("CBOR string longer than the data")
        raw = self.data[self.pos : end]
        self.pos = end
        if major == 2:
            return raw
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CborError("CBOR text is not valid UTF-8") from None

    def map(self, count: int, depth: int) -> dict[CborKey, CborValue]:
        if count * 2 > len(self.data) - self.pos:
            raise CborError("CBOR map longer than the data")
        result: dict[CborKey, CborValue] = {}
        remaining = count
        while (remaining > 0) if count >= 0 else not self.at_break():
            remaining -= 1
            key = self.item(depth + 1)
            if isinstance(key, bool) or not isinstance(key, int | str):
                raise CborError("CBOR map keys must be integers or text")
            if key in result:
                raise CborError("duplicate CBOR map key")
            result[key] = self.item(depth + 1)
        return result


def dumps(value: CborValue) -> bytes:
    """Encode a value with the shortest (preferred) CBOR serialisation."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _head(major: int, arg: int, out: bytearray) -> None:
    if arg < 24:
        out.append(major << 5 | arg)
    elif arg < 0x100:
        out += bytes((major << 5 | 24, arg))
    elif arg < 0x10000:
        out.append(major << 5 | 25)
        out += arg.to_bytes(2, "big")
    elif arg < 0x100000000:
        out.append(major << 5 | 26)
        out += arg.to_bytes(4, "big")
    elif arg < 0x10000000000000000:
        out.append(major << 5 | 27)
        out += arg.to_bytes(8, "big")
    else:
        raise CborError("integer too large for CBOR")


def _encode(value: CborValue, out: bytearray) -> None:
    if value is None or isinstance(value, bool):
        out.append({False: 0xF4, True: 0xF5, None: 0xF6}[value])
    elif isinstance(value, float):
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, int):
        if value >= 0:
            _head(0, value, out)
        else:
            _head(1, -1 - value, out)
    elif isinstance(value, bytes):
        _head(2, len(value), out)
        out += value
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        _head(3, len(raw), out)
        out += raw
    elif isinstance(value, list):
        _head(4, len(value), out)
        for element in value:
            _encode(element, out)
    elif isinstance(value, dict):
        _head(5, len(value), out)
        for key, element in value.items():
            _encode(key, out)
            _encode(element, out)
    else:
        _head(6, value.tag, out)
        _encode(value.value, out)
