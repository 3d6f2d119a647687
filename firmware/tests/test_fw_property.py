"""Random frames and time jumps through the board's loop: the relay is never on while disarmed,
never on for more than 2,000 ms, and off within 500 ms of the last frame the board accepted;
nothing the host sends or the hardware raises stops the loop."""

import gateio_hw
import machine
from gateio_core import HEARTBEAT_DEADLINE_MS, MAX_PULSE_MS, BoardIO, GateBoard
from gateio_proto import FrameReader, crc16

STEPS = 1500
SEEDS = (1, 2, 3)
COMMANDS = (
    "HELLO 1",
    "HELLO 2",
    "HELLO 0001",
    "HB",
    "HB",
    "HB",
    "OPEN 300",
    "OPEN 2000",
    "OPEN 99999999999999999999",
    "OPEN -5",
    "OPEN 0x10",
    "OPEN",
    "CLOSE",
    "OUT G 1",
    "OUT Z 0",
    "STATUS",
    "VERSION",
    "NOPE",
    "",
)
SEQ_FIELDS = ("-1", "+1", " 1", "1 ", "0x", "-0", "g1", "1", "100")


class Random:
    """xorshift32: the same sequence on CPython and MicroPython, no random module needed."""

    def __init__(self, seed):
        self.state = (seed * 2654435761) & 0xFFFFFFFF or 1

    def next(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def below(self, n):
        return self.next() % n

    def pick(self, items):
        return items[self.below(len(items))]


class Clock:
    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now


class FlakyIO(BoardIO):
    """Records the relay with the time it switched; sometimes an input read raises."""

    def __init__(self, clock, rng):
        self.clock = clock
        self.rng = rng
        self.relay = False
        self.on_since = 0
        self.raises = 0

    def set_relay(self, on):
        if on and not self.relay:
            self.on_since = self.clock()
        self.relay = on

    def read_passage(self):
        if self.rng.below(200) == 0:
            self.raises += 1
            raise OSError(5)  # an I/O error on the pin, as a fault might give
        return False


class Stream:
    def __init__(self):
        self.pending = bytearray()
        self.written = b""

    def read(self, n):
        chunk = bytes(self.pending[:n])
        self.pending = self.pending[n:]
        return chunk

    def write(self, data):
        self.written += data
        return len(data)


class Poller:
    def __init__(self, stream):
        self.stream = stream

    def poll(self, timeout_ms):
        return [(self.stream, 1)] if self.stream.pending else []


class Dog:
    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


def _frame(rng):
    text = rng.pick(COMMANDS)
    kind = rng.below(10)
    if kind < 6:
        seq = f"{rng.below(256):02X}"
    elif kind < 9:
        seq = rng.pick(SEQ_FIELDS)
    else:
        return bytes(rng.below(256) for _ in range(rng.below(12)))  # line noise
    body = (seq + " " + text).encode()
    return b":" + body + f"*{crc16(body):04X}\n".encode()


def _main():
    try:
        with open(gateio_hw.MAINTENANCE_FLAG, "w") as flag:
            flag.write("1")  # importing main boots it: into maintenance, which returns
        import main
    finally:
        try:
            import os

            os.remove(gateio_hw.MAINTENANCE_FLAG)
        except OSError:
            pass
    return main


def _run(seed):
    machine.clear()
    main = _main()
    rng = Random(seed)
    clock = Clock()
    io = FlakyIO(clock, rng)
    board = GateBoard(io, clock())
    stream, out, dog = Stream(), Stream(), Dog()
    replies = FrameReader()
    last_accepted = -(10**9)
    for step in range(STEPS):
        if rng.below(3) == 0:
            stream.pending += _frame(rng)
            if rng.below(4) == 0:
                stream.pending += _frame(rng)
        jump = rng.below(40) if rng.below(10) else rng.below(3000)
        clock.now += jump
        before = len(out.written)
        raises = io.raises
        main.pump(board, Poller(stream), stream, out, dog, clock)
        if replies.feed(out.written[before:]):
            last_accepted = clock.now
        where = f"seed {seed} step {step} at {clock.now} ms"
        assert dog.feeds == step + 1, where
        if io.raises != raises:
            assert not io.relay, "relay left on after an error: " + where
        if io.relay:
            assert board.armed, "relay on while disarmed: " + where
            assert clock.now - io.on_since <= MAX_PULSE_MS, "pulse too long: " + where
            assert clock.now - last_accepted <= HEARTBEAT_DEADLINE_MS, "no heartbeat: " + where
    return board


def test_random_frames_and_time_jumps_keep_the_relay_safe():
    opened = 0
    for seed in SEEDS:
        board = _run(seed)
        opened += board.opens
        assert board.bad_frames > 0  # the random stream did reach the error paths
    assert opened > 0  # and the relay did open, so the invariants were put to the test


def test_a_negative_sequence_field_is_not_a_frame():
    main = _main()
    io = FlakyIO(Clock(), Random(1))
    io.read_passage = lambda: False
    board = GateBoard(io, 0)
    stream, out = Stream(), Stream()
    for seq in ("-1", "+1", " 1", "1 "):
        body = (seq + " HELLO 1").encode()
        stream.pending += b":" + body + f"*{crc16(body):04X}\n".encode()
        for _ in range(3):
            main.pump(board, Poller(stream), stream, out, Dog(), Clock())
    assert out.written == b"" and board.bad_frames == 4 and not board.armed
