"""The Pico wiring and boot path, on a fake `machine`."""

import gateio_hw
import machine


def _reset():
    machine.clear()
    try:
        import os

        os.remove(gateio_hw.MAINTENANCE_FLAG)
    except OSError:
        pass


def test_relay_pin_low_and_inputs_pulled_up():
    _reset()
    io = gateio_hw.PicoIO()
    relay = machine.PINS[gateio_hw.RELAY_PIN]
    assert relay.mode == machine.Pin.OUT and relay.history == [0]
    assert machine.PINS[gateio_hw.PASSAGE_PIN].pull == machine.Pin.PULL_UP
    assert io.read_passage() is False
    machine.PINS[gateio_hw.PASSAGE_PIN].level = 0
    assert io.read_passage() is True
    io.set_relay(on=True)
    io.set_output("F", on=True)
    assert relay.level == 1 and machine.PINS[gateio_hw.OUTPUT_PINS["F"]].level == 1


def test_maintenance_writes_flag_and_resets_with_relay_off():
    _reset()
    io = gateio_hw.PicoIO()
    io.set_relay(on=True)
    try:
        io.enter_maintenance()
    except machine.ResetCalled:
        pass
    assert machine.RESETS == [True]
    assert machine.PINS[gateio_hw.RELAY_PIN].level == 0
    with open(gateio_hw.MAINTENANCE_FLAG) as flag:
        assert flag.read() == "1"


def test_watchdog_and_reset_cause():
    _reset()
    wdt = gateio_hw.start_watchdog()
    assert wdt.timeout == gateio_hw.WATCHDOG_MS
    assert gateio_hw.reset_cause() == "power"
    machine.CAUSE[0] = machine.WDT_RESET
    assert gateio_hw.reset_cause() == "watchdog"


def test_boot_in_maintenance_stops_with_relay_off_and_no_watchdog():
    _reset()
    with open(gateio_hw.MAINTENANCE_FLAG, "w") as flag:
        flag.write("1")
    import main  # runs main(): the flag sends it to maintenance, which returns

    assert machine.PINS[gateio_hw.RELAY_PIN].history == [0]
    assert machine.PINS[gateio_hw.OUTPUT_PINS["F"]].level == 1
    assert machine.WATCHDOGS == []
    assert main.maintenance_requested() is False


class FakePoller:
    def __init__(self, stream):
        self.stream = stream

    def poll(self, timeout_ms):
        return [(self.stream, 1)] if self.stream.pending else []


class FakeStream:
    def __init__(self, data=b""):
        self.pending = bytearray(data)
        self.written = b""

    def read(self, n):
        chunk, self.pending = bytes(self.pending[:n]), self.pending[n:]
        return chunk

    def write(self, data):
        self.written += data
        return len(data)


def test_pump_answers_ticks_and_feeds_the_watchdog():
    _reset()
    with open(gateio_hw.MAINTENANCE_FLAG, "w") as flag:
        flag.write("1")
    import main  # already imported by the boot test, or booted into maintenance here
    from gateio_core import GateBoard
    from gateio_proto import FrameReader, encode

    io = gateio_hw.PicoIO()
    board = GateBoard(io, main.now_ms())
    wdt = machine.WDT(timeout=2000)
    stream = FakeStream(encode(1, "HELLO 1") + encode(2, "OPEN 300"))
    out = FakeStream()
    main.pump(board, FakePoller(stream), stream, out, wdt)
    main.pump(board, FakePoller(stream), stream, out, wdt)
    replies = FrameReader().feed(out.written)
    assert [seq for seq, _ in replies] == [1, 2]
    assert replies[1][1] == "OK OPEN 300"
    assert machine.PINS[gateio_hw.RELAY_PIN].level == 1
    assert wdt.feeds == 2
    main.pump(board, FakePoller(stream), stream, out, wdt)
    assert wdt.feeds == 3 and board.relay_on
