"""Serial line reader against a pty peer and loop://: garbage, splits, over-long lines, unplug."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.clock import FakeClock
from edge.core.identity import discard_stale_lines
from edge.drivers.serial_lines import LineFramer, ReconnectingPort, SerialLineReader


class PtyPeer:
    """The far end of a pseudo-terminal; the reader opens the slave side by path."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def peer() -> Iterator[PtyPeer]:
    p = PtyPeer()
    yield p
    p.unplug()


def _read_all(reader: SerialLineReader, count: int, timeout: float = 3.0) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while len(lines) < count and time.monotonic() < deadline:
        line = reader.read_line(0.2)
        if line is not None:
            lines.append(line)
    return lines


def test_split_lines_garbage_and_overlong_lines_over_a_pty(peer: PtyPeer) -> None:
    reader = SerialLineReader(ReconnectingPort(peer.path, 9600), b"\r", max_length=64)
    try:
        assert reader.read_line(0.05) is None  # opens the port (opening flushes its input)
        peer.send(b"HC1:PART")
        assert reader.read_line(0.2) is None  # a partial line is never returned
        peer.send(b"IAL\r")
        peer.send(b"\xff\xfe\x00garbage\r")  # not text: discarded
        peer.send(b"X" * 200 + b"\r")  # over-long: discarded entirely, tail included
        peer.send(b"DOC123\rNEXT\r")
        assert _read_all(reader, 3) == ["HC1:PARTIAL", "DOC123", "NEXT"]
        assert reader.discarded == 2
        assert reader.healthy
    finally:
        reader.close()


def test_zero_timeout_opens_the_port_and_stale_lines_are_drained(peer: PtyPeer) -> None:
    reader = SerialLineReader(ReconnectingPort(peer.path, 9600), b"\r")
    try:
        assert reader.fault == "not opened yet"
        assert reader.read_line(0.0) is None  # polls once: the port is open afterwards
        assert reader.healthy
        peer.send(b"OLD-1\rOLD-2\r")
        time.sleep(0.05)
        assert discard_stale_lines(reader) == 2
        peer.send(b"FRESH\r")
        assert _read_all(reader, 1) == ["FRESH"]
    finally:
        reader.close()


def test_disconnect_is_reported_and_the_reader_reopens_the_port() -> None:
    peers = [PtyPeer(), PtyPeer()]
    opened: list[PtyPeer] = []

    def opener() -> Any:
        peer = peers[len(opened)] if len(opened) < len(peers) else None
        if peer is None:
            raise serial.SerialException("no such device")
        opened.append(peer)
        return serial.Serial(peer.path, 9600, timeout=0.05)

    reader = SerialLineReader(ReconnectingPort("/dev/serial/by-id/usb-scanner", opener=opener))
    try:
        assert reader.read_line(0.05) is None
        peers[0].send(b"FIRST\r")
        assert _read_all(reader, 1) == ["FIRST"]
        peers[0].send(b"HALF-A-LI")
        time.sleep(0.05)
        peers[0].unplug()
        deadline = time.monotonic() + 3.0
        while reader.healthy and time.monotonic() < deadline:
            assert reader.read_line(0.1) is None  # never raises
        assert reader.fault is not None
        while reader.fault is not None and time.monotonic() < deadline + 3.0:
            assert reader.read_line(0.1) is None  # replugged: reopened after a backoff
        peers[1].send(b"NE\rSECOND\r")
        lines = _read_all(reader, 2, timeout=5.0)
        assert "SECOND" in lines
        assert not any("HALF-A-LI" in line for line in lines)
        assert reader.healthy
        assert reader.port.reconnects == 1
    finally:
        reader.close()
        for p in peers:
            p.unplug()


def test_loop_url_and_port_that_cannot_open() -> None:
    port = ReconnectingPort("loop://", 9600)
    reader = SerialLineReader(port, b"\n")
    assert port.write(b"one\ntwo\n")
    assert _read_all(reader, 2) == ["one", "two"]
    reader.close()
    clock = FakeClock()
    missing = SerialLineReader(
        ReconnectingPort("/dev/serial/by-id/does-not-exist", clock=clock), clock=clock
    )
    assert missing.read_line(1.0) is None
    assert not missing.healthy and "cannot open" in (missing.fault or "")


def test_framer_accepts_any_common_line_end() -> None:
    framer = LineFramer(b"\r", 100)
    assert framer.feed(b"a\rb\nc\r\nd") == ["a", "b", "c"]
    assert framer.feed(b"\r") == ["d"]
    tab = LineFramer(b"\t", 100)
    assert tab.feed(b"x\ty\r\t") == ["x"]  # CR inside a tab-terminated line is garbage


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=20), st.sampled_from([b"\r", b"\n", b"\t"]))
def test_framer_never_crashes_and_only_returns_clean_bounded_text(
    chunks: list[bytes], terminator: bytes
) -> None:
    framer = LineFramer(terminator, max_length=32)
    for chunk in chunks:
        for line in framer.feed(chunk):
            assert 0 < len(line.encode()) <= 32
            assert not any(ord(c) < 0x20 and c != "\t" for c in line)
