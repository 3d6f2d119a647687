"""GM65 and Honeywell scanner protocols over loop:// and a pty peer; parsers under hypothesis."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock
from edge.drivers.serial_lines import ReconnectingPort
from edge.drivers.serial_scanner import (
    GM65_READ_MODE,
    GM65_SAVE_SETTINGS,
    GM65_TRIGGER,
    HONEYWELL_TRIGGER,
    HONEYWELL_UNTRIGGER,
    Gm65ReplyFilter,
    SerialQrScanner,
    crc16_ccitt,
    gm65_command,
    open_serial_scanner,
)
from edge.drivers.settings import SerialScannerSettings


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    """A pseudo-terminal: (the module's end as a file descriptor, the gate's end as a path)."""
    master, slave = os.openpty()
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def scanner_on(
    url: str, protocol: str, *, max_length: int = 4096, trigger_interval_s: float = 2.0
) -> tuple[SerialQrScanner, FakeClock]:
    """A scanner of `protocol` on a serial URL or pty path, driven by a FakeClock."""
    clock = FakeClock()
    port = ReconnectingPort(url, 9600, clock=clock)
    scanner = SerialQrScanner(port, protocol, b"\r", max_length, trigger_interval_s, clock=clock)
    return scanner, clock


def test_frames_match_the_documented_bytes() -> None:
    assert bytes.fromhex("7E 00 08 01 00 02 01 AB CD") == GM65_TRIGGER
    assert bytes.fromhex("7E 00 09 01 00 00 00 DE C8") == GM65_SAVE_SETTINGS
    assert gm65_command(0x09, 0x0000, b"\x00") == GM65_SAVE_SETTINGS
    assert crc16_ccitt(b"123456789") == 0x31C3  # CRC-16/XMODEM check value


def test_reply_filter_strips_split_replies_and_keeps_text() -> None:
    replies = Gm65ReplyFilter()
    reply = bytes.fromhex("02 00 00 01 00 33 31")
    stream = b"HC1:AB" + reply + b"CD\r"
    out = b"".join(replies.feed(stream[i : i + 1]) for i in range(len(stream)))
    assert out == b"HC1:ABCD\r"
    assert len(replies.replies) == 1 and replies.replies[0].status == 0
    assert replies.replies[0].data == b"\x00"
    body = bytes.fromhex("00 01 00")
    good = b"\x02\x00" + body + crc16_ccitt(body).to_bytes(2, "big")
    Gm65ReplyFilter().feed(good)
    checked = Gm65ReplyFilter()
    checked.feed(good)
    assert checked.replies[0].crc_ok
    bad = Gm65ReplyFilter()
    bad.feed(b"\x02\x00" + body + b"\x00\x00")
    assert not bad.replies[0].crc_ok


def test_gm65_command_mode_triggers_and_reads_text_past_replies(pty: tuple[int, str]) -> None:
    master, tty = pty
    scanner, _ = scanner_on(tty, "gm65-command", trigger_interval_s=2.0)
    assert scanner.read_line(0.05) is None
    answer_mode_setup(master, scanner, current=0b01)  # already in command mode
    assert scanner.read_line(0.05) is None
    time.sleep(0.05)
    assert os.read(master, 64) == GM65_TRIGGER
    reply = bytes.fromhex("02 00 00 01 00 33 31")
    os.write(master, reply[:3])  # the reply arrives split, then the decoded text
    assert scanner.read_line(0.05) is None
    os.write(master, reply[3:] + b"HC1:XYZ\r")
    assert scanner.read_line(1.0) == "HC1:XYZ"
    assert scanner.replies and scanner.replies[-1].status == 0
    scanner.close()


def reply_frame(status: int, data: bytes) -> bytes:
    body = bytes([status, len(data)]) + data
    return b"\x02\x00" + body + crc16_ccitt(body).to_bytes(2, "big")


def answer_mode_setup(master: int, scanner: SerialQrScanner, current: int) -> bytes | None:
    """Play the module: answer the mode read with `current`; answer a write, return it."""
    time.sleep(0.05)
    assert os.read(master, 64) == GM65_READ_MODE
    os.write(master, reply_frame(0, bytes([current])))
    assert scanner.read_line(0.1) is None
    assert scanner.mode_setup is not None
    if scanner.mode_setup.state == "done":
        return None
    time.sleep(0.05)
    written = os.read(master, 64)
    os.write(master, reply_frame(0, bytes([written[6]])))
    assert scanner.read_line(0.1) is None
    return written


def test_gm65_module_is_put_into_the_configured_mode_keeping_other_bits(
    pty: tuple[int, str],
) -> None:
    master, tty = pty
    scanner, _ = scanner_on(tty, "gm65-continuous")
    assert scanner.read_line(0.05) is None  # opens the port, asks for the mode zone
    written = answer_mode_setup(master, scanner, current=0b1000_0001)  # command mode now
    assert written == gm65_command(0x08, 0x0000, bytes([0b1000_0010]))  # CRC, not AB CD
    assert written[-2:] == crc16_ccitt(written[2:-2]).to_bytes(2, "big")
    assert scanner.mode_setup is not None and scanner.mode_setup.state == "done"
    os.write(master, b"HC1:AFTER\r")
    assert scanner.read_line(1.0) == "HC1:AFTER"
    scanner.close()


def test_a_silent_gm65_module_is_reported_and_its_text_still_read(pty: tuple[int, str]) -> None:
    master, tty = pty
    scanner, clock = scanner_on(tty, "gm65-continuous")
    for _ in range(4):  # three tries a second apart, then it gives up
        assert scanner.read_line(0.05) is None
        clock.advance(1.1)
    assert scanner.read_line(0.05) is None
    assert scanner.mode_setup is not None and scanner.mode_setup.state == "failed"
    assert scanner.mode_setup.problem is not None
    assert "no reply" in scanner.mode_setup.problem
    time.sleep(0.05)
    assert os.read(master, 256) == GM65_READ_MODE * 3
    os.write(master, b"HC1:STILL\r")
    assert scanner.read_line(1.0) == "HC1:STILL"
    scanner.close()


def test_honeywell_trigger_is_sent_and_stopped_on_close(pty: tuple[int, str]) -> None:
    master, tty = pty
    scanner, clock = scanner_on(tty, "honeywell", trigger_interval_s=5.0)
    assert scanner.read_line(0.05) is None  # opens the port and sends the first trigger
    os.write(master, b"DOC-42\r")
    assert scanner.read_line(1.0) == "DOC-42"
    time.sleep(0.05)
    assert os.read(master, 64).startswith(HONEYWELL_TRIGGER)
    clock.advance(5.0)
    assert scanner.read_line(0.05) is None
    time.sleep(0.05)
    assert os.read(master, 64) == HONEYWELL_TRIGGER  # re-triggered once per interval
    scanner.close()
    time.sleep(0.05)
    assert os.read(master, 64) == HONEYWELL_UNTRIGGER


def test_factory_builds_a_continuous_scanner_on_loop() -> None:
    scanner = open_serial_scanner(
        SerialScannerSettings(enabled=True, port="loop://", protocol="gm65-continuous")
    )
    reply = bytes.fromhex("02 00 00 01 00 33 31")
    scanner.port.write(b"\x02noise\r" + reply + b"CODE\r")
    assert [scanner.read_line(1.0), scanner.read_line(1.0)] == ["noise", "CODE"]
    assert len(scanner.replies) == 1
    scanner.close()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_reply_filter_never_crashes_and_bounds_its_buffer(chunks: list[bytes]) -> None:
    replies = Gm65ReplyFilter()
    for chunk in chunks:
        out = replies.feed(chunk)
        assert len(out) <= len(chunk) + 300
    assert len(replies.replies) <= 16


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_scanner_on_arbitrary_input_returns_only_clean_lines_or_none(data: bytes) -> None:
    scanner, _ = scanner_on("loop://", "gm65-continuous", max_length=64)
    scanner.port.write(data + b"\r")
    for _ in range(3):
        line = scanner.read_line(0.01)
        assert line is None or (line and "\r" not in line and len(line.encode()) <= 64)
    scanner.close()
