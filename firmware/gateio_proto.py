"""Gate I/O protocol framing: CRC-16, frame encoding and a resynchronising frame reader."""

FIRMWARE_VERSION = "1.0.0"
PROTOCOL_VERSION = 1

START = 0x3A  # ":"
CRC_MARK = 0x2A  # "*"
END = 0x0A  # "\n"
MAX_FRAME = 200  # bytes from ":" to "\n" inclusive


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): b"123456789" -> 0x29B1."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def encode(seq: int, text: str) -> bytes:
    """One frame: ":" + 2 hex digits of seq + " " + text + "*" + 4 hex digits of CRC + "\\n"."""
    body = f"{seq & 0xFF:02X} {text}".encode()
    return b":" + body + f"*{crc16(body):04X}\n".encode()


def _printable(body: bytes) -> bool:
    for byte in body:
        if byte < 0x20 or byte > 0x7E or byte in (START, CRC_MARK):
            return False
    return True


HEX_DIGITS = b"0123456789ABCDEFabcdef"


def hex_field(field: bytes) -> int | None:
    """The value of a field of hex digits only (no sign, space or prefix), else None."""
    if not field:
        return None
    value = 0
    for byte in field:
        digit = HEX_DIGITS.find(bytes([byte]))
        if digit < 0:
            return None
        value = value * 16 + (digit if digit < 16 else digit - 6)
    return value


def decode(frame: bytes) -> tuple[int, str] | None:
    """(seq, text) of one frame without its ":" and "\\n", or None when it is not valid: the
    sequence number is exactly 2 hex digits and the CRC exactly 4, nothing else allowed."""
    if frame.endswith(b"\r"):
        frame = frame[:-1]
    mark = len(frame) - 5
    if mark < 3 or frame[mark] != CRC_MARK:
        return None
    body = frame[:mark]
    crc = hex_field(frame[mark + 1 :])
    seq = hex_field(body[:2])
    if crc is None or seq is None or crc != crc16(body):
        return None
    if body[2:3] != b" " or not _printable(body):
        return None
    return seq, body[3:].decode()


class FrameReader:
    """Splits a byte stream into frames; garbage, overlong and corrupted frames are counted and
    skipped, and every ":" starts a new frame, so the reader resynchronises on the next frame."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False
        self.bad = 0

    def feed(self, data: bytes) -> list[tuple[int, str]]:
        """Add received bytes; return the valid frames completed by them, in order."""
        frames = []
        for byte in data:
            if byte == START:
                if self._in_frame and self._buf:
                    self.bad += 1
                self._buf = bytearray()
                self._in_frame = True
            elif not self._in_frame:
                continue
            elif byte == END:
                self._in_frame = False
                decoded = decode(bytes(self._buf))
                if decoded is None:
                    self.bad += 1
                else:
                    frames.append(decoded)
            elif len(self._buf) >= MAX_FRAME - 2:
                self._in_frame = False
                self.bad += 1
            else:
                self._buf.append(byte)
        return frames
