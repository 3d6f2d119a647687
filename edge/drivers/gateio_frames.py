"""Gate I/O board protocol on the host side: frames with CRC-16 and a resynchronising reader."""

from __future__ import annotations

from pathlib import Path

PROTOCOL_VERSION = 1
FIRMWARE_VERSION = "1.0.0"  # the firmware shipped in firmware/ with this release
START, CRC_MARK, END = b":", b"*", b"\n"
MAX_FRAME = 200  # bytes from ":" to "\n" inclusive
SEQ_MODULO = 256


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): b"123456789" -> 0x29B1."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def encode_frame(seq: int, text: str) -> bytes:
    """`:SS TEXT*CCCC\\n` with SS the sequence number and CCCC the CRC of `SS TEXT` (hex)."""
    if not 0 <= seq < SEQ_MODULO:
        raise ValueError(f"sequence number must be 0..255, got {seq}")
    body = f"{seq:02X} {text}".encode("ascii")
    if any(b < 0x20 or b > 0x7E or b in b":*" for b in body):
        raise ValueError(f"frame text must be printable ASCII without ':' or '*': {text!r}")
    frame = START + body + f"*{crc16(body):04X}".encode() + END
    if len(frame) > MAX_FRAME:
        raise ValueError(f"frame of {len(frame)} bytes exceeds {MAX_FRAME}")
    return frame


def decode_body(raw: bytes) -> tuple[int, str] | None:
    """(seq, text) of a frame's bytes between ":" and "\\n", or None if it is not a valid frame."""
    raw = raw.removesuffix(b"\r")
    body, mark, crc_text = raw.rpartition(CRC_MARK)
    if not mark or len(crc_text) != 4 or len(body) < 3 or body[2:3] != b" ":
        return None
    if any(b < 0x20 or b > 0x7E or b in b":*" for b in body):
        return None
    try:
        crc = int(crc_text.decode("ascii"), 16)
        seq = int(body[:2].decode("ascii"), 16)
    except ValueError:
        return None
    if not crc_text.isalnum() or not body[:2].isalnum() or crc != crc16(body):
        return None
    return seq, body[3:].decode("ascii")


class FrameReader:
    """Cuts a byte stream into valid frames. Bytes outside a frame, frames with a bad CRC or
    shape and overlong frames are dropped and counted; a ":" always starts a new frame."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False
        self.dropped = 0

    def reset(self) -> None:
        """Forget a partial frame (after a reconnect)."""
        self._buf.clear()
        self._in_frame = False

    def feed(self, data: bytes) -> list[tuple[int, str]]:
        """Add received bytes; return the valid frames they complete, in order."""
        frames: list[tuple[int, str]] = []
        for byte in data:
            if byte == START[0]:
                if self._in_frame and self._buf:
                    self.dropped += 1
                self._buf.clear()
                self._in_frame = True
            elif not self._in_frame:
                continue
            elif byte == END[0]:
                self._in_frame = False
                decoded = decode_body(bytes(self._buf))
                if decoded is None:
                    self.dropped += 1
                else:
                    frames.append(decoded)
            elif len(self._buf) >= MAX_FRAME - 2:
                self._in_frame = False
                self.dropped += 1
            else:
                self._buf.append(byte)
        return frames


def firmware_dirs() -> tuple[Path, Path]:
    """Where this release's firmware may be: inside the installed package (wheel, .deb), then
    firmware/ of the source tree an editable install runs from."""
    package = Path(__file__).resolve().parents[1]
    return package / "firmware", package.parent / "firmware"


def default_firmware_dir() -> Path:
    """The first of firmware_dirs() that holds the firmware (main.py), else the packaged one."""
    dirs = firmware_dirs()
    return next((d for d in dirs if (d / "main.py").is_file()), dirs[0])
