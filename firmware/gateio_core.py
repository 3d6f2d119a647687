"""Gate I/O board logic: relay pulses, heartbeat deadline, inputs, replies; no hardware access."""

from gateio_proto import FIRMWARE_VERSION, PROTOCOL_VERSION, FrameReader, encode

MIN_PULSE_MS = 100
MAX_PULSE_MS = 2000  # the board's own cap, whatever the host asks for
MIN_OFF_MS = 100  # after a pulse the relay stays off this long, and at least as long as it was on
HEARTBEAT_DEADLINE_MS = 500  # no valid frame for this long: relay off, fault lamp on
DEBOUNCE_MS = 20
TICKS_PERIOD = 1 << 30  # time.ticks_ms() wraps at 2**30 on the RP2040 port
COUNTER_PERIOD = 65536
OUTPUT_NAMES = ("G", "R", "Z")  # green lamp, red lamp, buzzer


def ticks_diff(end: int, start: int) -> int:
    """end - start in ms, correct across the wrap of ticks_ms (like time.ticks_diff)."""
    half = TICKS_PERIOD // 2
    return ((end - start + half) % TICKS_PERIOD) - half


def ticks_add(start: int, delta: int) -> int:
    """start + delta in ticks_ms arithmetic."""
    return (start + delta) % TICKS_PERIOD


def _number(text: str) -> bool:
    """1-6 ASCII digits: the only numbers the protocol carries."""
    return 0 < len(text) <= 6 and all("0" <= char <= "9" for char in text)


class BoardIO:
    """What the logic drives and reads; the hardware module and the tests subclass it."""

    def set_relay(self, *, on: bool) -> None:
        """Energise (True) or release (False) the gate relay."""

    def set_output(self, name: str, *, on: bool) -> None:
        """Switch an indicator: "G" green lamp, "R" red lamp, "Z" buzzer, "F" fault lamp."""

    def read_passage(self) -> bool:
        """The raw (undebounced) turnstile PASS input, True when active."""
        return False

    def read_button(self) -> bool:
        """The raw (undebounced) manual-pass button, True when pressed."""
        return False

    def enter_maintenance(self) -> None:
        """Reboot into maintenance mode (relay off, no watchdog) for reflashing."""


class Debouncer:
    """A level counts once the raw input held it for `debounce_ms`; activations are counted."""

    def __init__(self, debounce_ms: int, now: int) -> None:
        self.debounce_ms = debounce_ms
        self.state = False
        self.activations = 0
        self._raw = False
        self._since = now

    def update(self, *, raw: bool, now: int) -> bool:
        """Feed one raw sample taken at `now`; return the debounced state."""
        if raw != self._raw:
            self._raw = raw
            self._since = now
        if self._raw != self.state and ticks_diff(now, self._since) >= self.debounce_ms:
            self.state = self._raw
            if self.state:
                self.activations = (self.activations + 1) % COUNTER_PERIOD
        return self.state


class GateBoard:
    """The board's state machine. Feed it received bytes with receive() and call tick() often.

    The relay is off at start and energised only by a valid OPEN from a host that said HELLO and
    kept its heartbeat; every pulse ends by itself, at most MAX_PULSE_MS after it began.
    """

    def __init__(self, io: BoardIO, now: int, reset_cause: str = "power") -> None:
        self.io = io
        self.reset_cause = reset_cause
        self.version = FIRMWARE_VERSION
        self._reader = FrameReader()
        self._last_tick = now
        self.uptime_ms = 0
        self._last_seen = now
        self.armed = False  # a host said HELLO and has not missed its heartbeat since
        self.relay_on = False
        self._on_since = now
        self._off_at = now
        self._next_on = now
        self._resting = False  # True until _next_on: OPEN is refused with ERR BUSY
        self.passage = Debouncer(DEBOUNCE_MS, now)
        self.button = Debouncer(DEBOUNCE_MS, now)
        self._last_key = b""
        self._last_reply = b""
        self.opens = 0
        self.duplicates = 0
        self.heartbeat_losses = 0
        self.outputs = {"G": False, "R": False, "Z": False, "F": False}
        self._switch(on=False)
        for name in OUTPUT_NAMES:
            io.set_output(name, on=False)
        io.set_output("F", on=True)
        self.outputs["F"] = True

    @property
    def bad_frames(self) -> int:
        """Frames dropped for a bad CRC, bad shape or excess length."""
        return self._reader.bad

    def receive(self, data: bytes, now: int) -> bytes:
        """Handle received bytes; return the reply bytes to send (may be empty)."""
        out = b""
        for seq, text in self._reader.feed(data):
            key = bytes([seq]) + text.encode()
            if key == self._last_key:
                self.duplicates += 1
                self._last_seen = now
                out += self._last_reply
                continue
            reply = encode(seq, self._execute(text, now))
            self._last_key, self._last_reply = key, reply
            out += reply
            if text == "MAINT":
                self._release(now)
                self.io.enter_maintenance()
        return out

    def tick(self, now: int) -> None:
        """Sample the inputs, end pulses that are due and enforce the heartbeat deadline."""
        self.uptime_ms += max(0, ticks_diff(now, self._last_tick))
        self._last_tick = now
        self.passage.update(raw=self.io.read_passage(), now=now)
        self.button.update(raw=self.io.read_button(), now=now)
        if self.armed and ticks_diff(now, self._last_seen) >= HEARTBEAT_DEADLINE_MS:
            self.armed = False
            self.heartbeat_losses += 1
            self._release(now)
            self._indicators_off()
            self._set_output("F", on=True)
        if self.relay_on and ticks_diff(now, self._off_at) >= 0:
            self._release(now)
        if self._resting and ticks_diff(now, self._next_on) >= 0:
            self._resting = False

    def fail_safe(self, now: int) -> None:
        """After an unforeseen error: relay off, counted as a bad frame; serving goes on."""
        self._reader.bad += 1
        try:
            self._release(now)
        finally:
            self.relay_on = False

    def relay_left_ms(self, now: int) -> int:
        """How long the current pulse still runs (0 when off)."""
        return max(0, ticks_diff(self._off_at, now)) if self.relay_on else 0

    def _execute(self, text: str, now: int) -> str:
        parts = text.split(" ")
        verb, args = parts[0], parts[1:]
        if verb == "HELLO":
            return self._hello(args, now)
        if verb == "VERSION" and not args:
            return f"OK VERSION {self.version} {PROTOCOL_VERSION}"
        if verb == "STATUS" and not args:
            return "OK STATUS " + self._status(now)
        if verb == "MAINT" and not args:
            return "OK MAINT"
        if verb not in ("HB", "OPEN", "CLOSE", "OUT"):
            return "ERR CMD " + verb[:16]
        if not self.armed:
            return "ERR NOTREADY"
        self._last_seen = now
        if verb == "HB" and not args:
            return "OK HB " + self._inputs(now)
        if verb == "OPEN" and len(args) == 1 and _number(args[0]):
            if self._resting and not self.relay_on:
                return f"ERR BUSY {max(1, ticks_diff(self._next_on, now))}"
            return f"OK OPEN {self._open(int(args[0]), now)}"
        if verb == "CLOSE" and not args:
            self._release(now)
            return "OK CLOSE"
        if verb == "OUT" and len(args) == 2 and args[0] in OUTPUT_NAMES and args[1] in ("0", "1"):
            self._set_output(args[0], on=args[1] == "1")
            return f"OK OUT {args[0]} {args[1]}"
        return "ERR ARG " + verb

    def _hello(self, args: list[str], now: int) -> str:
        if len(args) != 1 or not _number(args[0]):
            return "ERR ARG HELLO"
        if int(args[0]) != PROTOCOL_VERSION:
            return f"ERR PROTO {PROTOCOL_VERSION}"
        self.armed = True
        self._last_seen = now
        self._set_output("F", on=False)
        versions = f"{PROTOCOL_VERSION} {self.version}"
        return f"OK HELLO {versions} {HEARTBEAT_DEADLINE_MS} {MAX_PULSE_MS}"

    def _open(self, requested_ms: int, now: int) -> int:
        length = max(MIN_PULSE_MS, min(requested_ms, MAX_PULSE_MS))
        if not self.relay_on:
            self._on_since = now
            self._off_at = ticks_add(now, length)
            self._switch(on=True)
            self.opens += 1
            return length
        latest = ticks_add(self._on_since, MAX_PULSE_MS)
        wanted = ticks_add(now, length)
        if ticks_diff(wanted, self._off_at) > 0:
            self._off_at = wanted
        if ticks_diff(self._off_at, latest) > 0:
            self._off_at = latest
        return self.relay_left_ms(now)

    def _inputs(self, now: int) -> str:
        passage, button = self.passage, self.button
        return (
            f"{self.relay_left_ms(now)} {int(passage.state)} {passage.activations}"
            f" {int(button.state)} {button.activations}"
        )

    def _status(self, now: int) -> str:
        fields = (
            ("fw", self.version),
            ("proto", str(PROTOCOL_VERSION)),
            ("armed", str(int(self.armed))),
            ("relay", str(int(self.relay_on))),
            ("left", str(self.relay_left_ms(now))),
            ("passage", str(int(self.passage.state))),
            ("pn", str(self.passage.activations)),
            ("button", str(int(self.button.state))),
            ("bn", str(self.button.activations)),
            ("fault", str(int(self.outputs["F"]))),
            ("opens", str(self.opens % COUNTER_PERIOD)),
            ("hbloss", str(self.heartbeat_losses % COUNTER_PERIOD)),
            ("bad", str(self.bad_frames % COUNTER_PERIOD)),
            ("dup", str(self.duplicates % COUNTER_PERIOD)),
            ("up", str(self.uptime_ms // 1000)),
            ("reset", self.reset_cause),
        )
        return " ".join(name + "=" + value for name, value in fields)

    def _release(self, now: int) -> None:
        """Relay off; the next pulse may start only after the off time."""
        if self.relay_on:
            rest = max(MIN_OFF_MS, ticks_diff(now, self._on_since))
            self._next_on = ticks_add(now, rest)
            self._resting = True
        self._switch(on=False)

    def _switch(self, *, on: bool) -> None:
        self.relay_on = on
        self.io.set_relay(on=on)

    def _set_output(self, name: str, *, on: bool) -> None:
        self.outputs[name] = on
        self.io.set_output(name, on=on)

    def _indicators_off(self) -> None:
        for name in OUTPUT_NAMES:
            self._set_output(name, on=False)
