"""The gate I/O host driver against the firmware's own logic across a pty pair."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.app.config import parse_config
from edge.app.hardware import open_hardware
from edge.clock import SystemClock
from edge.drivers import gateio_link
from edge.drivers.gateio import GateIoBoard, GateIoRelay, parse_heartbeat
from edge.drivers.gateio_frames import (
    FIRMWARE_VERSION,
    PROTOCOL_VERSION,
    FrameReader,
    crc16,
    decode_body,
    encode_frame,
)
from edge.drivers.gateio_link import GateIoError
from edge.errors import ConfigError, RelayError
from edge.faults import Fault
from edge.sim.gateio_board import SimGateIoBoard, load_firmware
from tests.gate_support import GateConfig
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
core = load_firmware()
proto = __import__("gateio_proto")


class FakeMs:
    """The board's clock in the heartbeat test: moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimGateIoBoard]:
    with SimGateIoBoard(tmp_path / "ttyGATEIO") as board:
        yield board


@pytest.fixture
def host(sim: SimGateIoBoard) -> Iterator[GateIoBoard]:
    board = GateIoBoard.open(str(sim.link))
    yield board
    board.close()


def relay_on(sim: SimGateIoBoard) -> bool:
    return sim.io.relay


# ---- the two implementations of the framing agree ----------------------------------------------


def test_versions_match_the_shipped_firmware() -> None:
    assert FIRMWARE_VERSION == proto.FIRMWARE_VERSION
    assert PROTOCOL_VERSION == proto.PROTOCOL_VERSION
    assert crc16(b"123456789") == 0x29B1 == proto.crc16(b"123456789")


@given(
    st.integers(0, 255), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
)
def test_host_and_firmware_frames_are_identical(seq: int, text: str) -> None:
    text = text.replace(":", "").replace("*", "")
    frame = encode_frame(seq, text)
    assert frame == proto.encode(seq, text)
    assert FrameReader().feed(frame) == [(seq, text)]
    assert proto.FrameReader().feed(frame) == [(seq, text)]


@settings(max_examples=300)
@given(st.binary(max_size=400), st.binary(max_size=50))
def test_reader_survives_any_bytes_and_resyncs(noise: bytes, tail: bytes) -> None:
    reader = FrameReader()
    reader.feed(noise)
    assert decode_body(noise) is None or isinstance(decode_body(noise), tuple)
    frame = encode_frame(9, "HB")
    assert reader.feed(frame + tail)[:1] == [(9, "HB")]


@given(st.text(max_size=40))
def test_malformed_heartbeat_reply_is_an_error(payload: str) -> None:
    try:
        inputs = parse_heartbeat(payload)
    except GateIoError:
        return
    assert inputs.passage_count < 65536


@given(st.text(max_size=60))
def test_malformed_hello_and_status_replies_are_errors(payload: str) -> None:
    for parse in (gateio_link.parse_hello, gateio_link.parse_status):
        with contextlib.suppress(GateIoError):
            parse(payload)


def test_reply_noise_never_stops_the_heartbeat(sim: SimGateIoBoard, host: GateIoBoard) -> None:
    garbage = [b":00 OK HB x y*0000\n", b"\xff" * 300, b":", b":ZZ OK*12\n"]
    sent = itertools.count()
    sim.to_host = lambda reply: garbage[next(sent) % len(garbage)] + reply
    beat = host.heartbeat()
    assert wait_until(lambda: host.heartbeat() > beat + 0.3)
    assert host.fault is None
    assert host.link.dropped_frames > 0


def test_encode_refuses_unframeable_text() -> None:
    for text in ("a:b", "a*b", "tab\there", "é"):
        with pytest.raises(ValueError):
            encode_frame(1, text)


# ---- the driver against the firmware's logic on a pty -------------------------------------------


def test_open_checks_version_and_pulse_closes_by_itself(
    sim: SimGateIoBoard, host: GateIoBoard
) -> None:
    assert host.link.info is not None
    assert host.link.info.firmware == FIRMWARE_VERSION
    assert host.link.info.heartbeat_deadline_ms == core.HEARTBEAT_DEADLINE_MS
    host.relay.pulse(150)
    # The pulse may already be over when a loaded machine gets here: judge by its history.
    assert wait_until(lambda: len(sim.io.relay_changes) == 3 and sim.io.relay is False)
    assert [on for _, on in sim.io.relay_changes] == [False, True, False]
    changes = sim.io.relay_changes
    assert changes[2][0] - changes[1][0] >= 150


def test_back_to_back_pulses_wait_out_the_boards_rest(
    sim: SimGateIoBoard, host: GateIoBoard
) -> None:
    host.relay.pulse(150)
    assert wait_until(lambda: not relay_on(sim))
    host.relay.pulse(150)  # refused BUSY by the board at first, then granted
    assert wait_until(lambda: len(sim.io.relay_changes) >= 4)
    changes = sim.io.relay_changes
    assert [on for _, on in changes][:4] == [False, True, False, True]
    assert changes[3][0] - changes[2][0] >= 150
    assert sim.board.opens == 2


def test_host_cannot_ask_for_more_than_the_cap(sim: SimGateIoBoard, host: GateIoBoard) -> None:
    host.command("OPEN 60000")
    assert sim.board.relay_left_ms(sim.clock_ms()) <= core.MAX_PULSE_MS
    host.relay.release()
    assert sim.io.relay is False


def test_protocol_mismatch_refused_at_start(
    sim: SimGateIoBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateio_link, "PROTOCOL_VERSION", PROTOCOL_VERSION + 1)
    with pytest.raises(GateIoError, match="gateio flash"):
        GateIoBoard.open(str(sim.link))
    assert sim.io.relay is False


def test_no_board_on_the_port_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GateIoError, match="cannot open"):
        GateIoBoard.open(str(tmp_path / "missing"))


def test_garbage_between_frames_is_skipped(sim: SimGateIoBoard, host: GateIoBoard) -> None:
    sim.to_host = lambda reply: (
        b"\x00\xffnoise:7F OK HB*0000\n" + reply + b"\r\n\xfe" if reply else reply
    )
    sim.to_board = lambda data: b"\x13\x11garbage" + data
    for _ in range(5):
        host.relay.pulse(100)
        host.relay.release()
    assert host.link.dropped_frames >= 5
    assert sim.board.opens == 5
    assert host.fault is None


def test_dropped_command_is_sent_again(sim: SimGateIoBoard, host: GateIoBoard) -> None:
    lost = threading.Event()

    def drop_first_open(data: bytes) -> bytes:
        if b"OPEN" in data and not lost.is_set():
            lost.set()
            return data[: len(data) // 2]  # half a frame arrives, the rest is lost
        return data

    sim.to_board = drop_first_open
    retries = host.link.retries
    host.relay.pulse(200)
    assert lost.is_set() and sim.io.relay is True
    assert host.link.retries > retries
    assert sim.board.opens == 1


def test_lost_reply_retry_is_not_executed_twice(sim: SimGateIoBoard, host: GateIoBoard) -> None:
    lost = threading.Event()

    def drop_first_open_reply(reply: bytes) -> bytes:
        if b"OK OPEN" in reply and not lost.is_set():
            lost.set()
            return b""
        return reply

    sim.to_host = drop_first_open_reply
    host.relay.pulse(200)
    assert lost.is_set()
    assert sim.board.opens == 1
    assert sim.board.duplicates >= 1


def test_duplicated_bytes_open_once(sim: SimGateIoBoard, host: GateIoBoard) -> None:
    sim.to_board = lambda data: data + data
    sim.to_host = lambda reply: reply + reply
    host.relay.pulse(300)
    host.relay.pulse(300)  # a second request: extends the pulse, never a second energise
    assert sim.board.opens == 1
    assert [on for _, on in sim.io.relay_changes].count(True) == 1
    assert sim.board.duplicates >= 2


def test_inputs_and_indicators(sim: SimGateIoBoard, host: GateIoBoard) -> None:
    io = host.gate_io()
    assert io.passage is not None and io.manual_button is not None and io.green_lamp is not None
    assert io.passage.wait_for_active(0.0) is False
    sim.io.press("passage", 0.08)
    assert io.passage.wait_for_active(2.0) is True
    sim.io.press("button", 0.08)
    assert io.manual_button.wait_for_active(2.0) is True
    io.green_lamp.on()
    assert sim.io.outputs["G"] is True
    io.close()
    assert sim.io.outputs["G"] is False


def test_unplug_is_a_fault_and_replug_recovers(sim: SimGateIoBoard, host: GateIoBoard) -> None:
    faults: dict[Fault, str] = {}

    def clear(fault: Fault) -> None:
        faults.pop(fault, None)

    host.attach_faults(faults.__setitem__, clear)
    host.relay.pulse(2000)
    sim.unplug()
    assert not relay_on(sim)
    assert wait_until(lambda: Fault.GATEIO_FAULT in faults)
    with pytest.raises(RelayError):
        host.relay.pulse(300)
    host.gate_io()
    faults[Fault.RELAY_FAULT] = "pulse failed"  # what the controller latched during the outage
    faults[Fault.INDICATOR_FAULT] = "lamp failed"
    sim.plug()
    assert wait_until(lambda: Fault.GATEIO_FAULT not in faults)
    assert Fault.RELAY_FAULT not in faults and Fault.INDICATOR_FAULT not in faults
    assert host.fault is None
    host.relay.pulse(300)
    assert sim.io.relay is True
    assert host.link.reconnects >= 2


def test_host_that_stops_heartbeating_loses_the_relay_within_the_deadline(
    tmp_path: Path,
) -> None:
    clock = FakeMs()
    script = (
        "import sys, time\n"
        "from edge.drivers.gateio import GateIoBoard\n"
        "board = GateIoBoard.open(sys.argv[1])\n"
        "board.relay.pulse(2000)\n"
        "print('open', flush=True)\n"
        "time.sleep(120)\n"
    )
    with SimGateIoBoard(tmp_path / "ttyGATEIO", clock_ms=clock) as sim:
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(sim.link)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "open"
            time.sleep(0.3)  # a few heartbeats, all at board time 1000
            os.kill(proc.pid, signal.SIGSTOP)  # the host hangs
            time.sleep(0.2)
            sim.sync()
            assert relay_on(sim) and sim.board.armed
            last_heard = clock.now
            while relay_on(sim) and clock.now - last_heard < 3000:
                clock.now += 5
                sim.sync()
        finally:
            proc.kill()
            proc.wait()
        dropped_at = sim.io.relay_changes[-1][0]
        assert not relay_on(sim)
        assert dropped_at - last_heard <= core.HEARTBEAT_DEADLINE_MS
        assert dropped_at - last_heard < 2000  # the deadline, not the end of the pulse
        assert sim.io.outputs["F"] is True
        assert sim.board.heartbeat_losses == 1


def test_configured_gate_uses_the_board_for_relay_and_io(
    sim: SimGateIoBoard, gate_config: GateConfig
) -> None:
    config = parse_config(
        gate_config(
            site="s",
            relay={"backend": "gateio", "port": str(sim.link)},
            io={"backend": "gateio"},
        )
    )
    hardware = open_hardware(config, SystemClock())
    faults: list[tuple[Fault, str]] = []
    try:
        assert isinstance(hardware.relay, GateIoRelay)
        hardware.attach_faults(lambda part, detail: faults.append((part, detail)), print)
        assert hardware.io.passage is not None and hardware.io.presence is None
        hardware.relay.pulse()
        assert relay_on(sim)
        sim.unplug()
        assert wait_until(lambda: bool(faults))
        assert faults[0][0] is Fault.GATEIO_FAULT
    finally:
        hardware.close()


def test_config_refuses_half_a_board(gate_config: GateConfig) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(gate_config(site="s", io={"backend": "gateio"}))
    assert 'io.backend: "gateio" needs relay.backend "gateio"' in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse_config(
            gate_config(
                site="s",
                relay={"backend": "gateio"},
                io={"backend": "gateio", "presence_line": 4},
            )
        )
    assert "relay.port" in str(caught.value) and "io.presence_line" in str(caught.value)


def test_protocol_document_examples_are_valid_frames() -> None:
    text = (ROOT / "docs" / "gateio-protocol.md").read_text()
    examples = re.findall(r":[0-9A-F]{2} [^*`]*\*[0-9A-F]{4}(?=\\n)", text)
    assert len(examples) == 4
    for example in examples:
        assert FrameReader().feed(example.encode() + b"\n"), example


@pytest.mark.parametrize(
    "payload",
    [
        "1 1.0.0 3600000 2000",  # a lost host noticed after an hour
        "1 1.0.0 50 2000",
        "1 1.0.0 500 60000",
        "1 1.0.0 -500 2000",
        "1 1.0.0 +500 2000",
        "1 1.0.0 5_00 2000",
        "1 1.0.0 500 2000 extra",
    ],
)
def test_a_hello_outside_the_protocols_range_is_refused(payload: str) -> None:
    with pytest.raises(GateIoError):
        gateio_link.parse_hello(payload)
    assert gateio_link.parse_hello("1 1.0.0 500 2000").heartbeat_deadline_ms == 500
