"""The gate I/O board as relay, inputs and indicators, kept alive by a heartbeat thread."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from edge.drivers.gateio_link import (
    BAUDRATE,
    BoardRefusedError,
    GateIoError,
    GateIoLink,
    Opener,
    open_serial,
)
from edge.drivers.io import GateIo
from edge.drivers.relay_pulse import MAX_PULSE_MS, clamp_pulse_ms
from edge.errors import DriverError, RelayError
from edge.faults import Fault
from edge.ports import FaultClear, FaultReport

log = logging.getLogger(__name__)

COUNTER_MODULO = 65536
HEARTBEATS_PER_DEADLINE = 5  # a heartbeat every fifth of the board's deadline
HEARTBEAT_THREAD = "gateio-heartbeat"


@dataclass(frozen=True)
class BoardInputs:
    """What the board reported in its last heartbeat reply."""

    relay_left_ms: int = 0
    passage: bool = False
    passage_count: int = 0
    button: bool = False
    button_count: int = 0


def parse_heartbeat(payload: str) -> BoardInputs:
    """`<relay ms left> <passage> <passage count> <button> <button count>` from an HB reply."""
    parts = payload.split(" ")
    if len(parts) != 5 or not all(part.isdigit() for part in parts):
        raise GateIoError(f"gate I/O board sent a malformed heartbeat reply {payload!r}")
    left, passage, passages, button, presses = (int(part) for part in parts)
    if passage > 1 or button > 1 or passages >= COUNTER_MODULO or presses >= COUNTER_MODULO:
        raise GateIoError(f"gate I/O board sent an out-of-range heartbeat reply {payload!r}")
    return BoardInputs(left, bool(passage), passages, bool(button), presses)


class GateIoBoard:
    """Owns the link; a heartbeat thread proves the host alive and polls the inputs.

    When no heartbeat has succeeded for the board's deadline the board has dropped the relay by
    itself; the host then reports gateio_fault (through attach_faults) and clears it once
    heartbeats are answered again, together with the relay and indicator faults that the outage
    caused in the controller.
    """

    def __init__(self, link: GateIoLink, *, pulse_ms: int = 300, cap_ms: int = MAX_PULSE_MS):
        self.link = link
        info = link.connect()
        self.cap_ms = max(100, min(cap_ms, info.max_pulse_ms, MAX_PULSE_MS))
        self.pulse_ms = clamp_pulse_ms(pulse_ms, self.cap_ms)
        self.deadline_s = info.heartbeat_deadline_ms / 1000
        self.period_s = self.deadline_s / HEARTBEATS_PER_DEADLINE
        self._cond = threading.Condition()
        self._inputs = BoardInputs()
        self._counts = {"passage": 0, "button": 0}  # activations seen since this host started
        self._last_ok = time.monotonic()
        self._last_beat = time.monotonic()
        self._fault: str | None = None
        self._report: FaultReport | None = None
        self._clear: FaultClear | None = None
        self._stop = threading.Event()
        self._handshake = -1  # the HELLO whose board counters _inputs holds
        self._io_taken = False
        self._beat()
        self._thread = threading.Thread(target=self._run, name=HEARTBEAT_THREAD, daemon=True)
        self._thread.start()
        self.relay = GateIoRelay(self)

    @classmethod
    def open(
        cls,
        port: str,
        *,
        baudrate: int = BAUDRATE,
        pulse_ms: int = 300,
        cap_ms: int = MAX_PULSE_MS,
        opener: Opener = open_serial,
    ) -> GateIoBoard:
        """Open the board on `port`, check its protocol version and start the heartbeat."""
        link = GateIoLink(port, baudrate, opener=opener)
        try:
            return cls(link, pulse_ms=pulse_ms, cap_ms=cap_ms)
        except GateIoError:
            link.close()
            raise

    # ---- state -----------------------------------------------------------------------------

    @property
    def inputs(self) -> BoardInputs:
        """The inputs from the last answered heartbeat."""
        with self._cond:
            return self._inputs

    @property
    def fault(self) -> str | None:
        """Why the board is out of reach, or None while heartbeats are answered."""
        with self._cond:
            return self._fault

    def heartbeat(self) -> float:
        """Monotonic time of the heartbeat thread's last round (for the service watchdog)."""
        return self._last_beat

    def activations(self, name: str) -> int:
        """Debounced activations of "passage" or "button" seen by this host."""
        with self._cond:
            return self._counts[name]

    def wait_for(self, name: str, timeout_s: float) -> bool:
        """Block until input `name` is active or has been activated since the call."""
        with self._cond:
            seen = self._counts[name]
            return self._cond.wait_for(
                lambda: self._active(name) or self._counts[name] != seen,
                timeout=max(0.0, timeout_s),
            )

    def attach_faults(self, report: FaultReport, clear: FaultClear) -> None:
        """Send the board's fault to the controller; one that is already active is sent now."""
        with self._cond:
            self._report, self._clear = report, clear
            fault = self._fault
        if fault is not None:
            report(Fault.GATEIO_FAULT, fault)

    def gate_io(self) -> GateIo:
        """The board's inputs and indicators in the shape the controller uses."""
        self._io_taken = True
        return GateIo(
            passage=GateIoInput(self, "passage"),
            manual_button=GateIoInput(self, "button"),
            green_lamp=GateIoOutput(self, "G", "green lamp"),
            red_lamp=GateIoOutput(self, "R", "red lamp"),
            buzzer=GateIoOutput(self, "Z", "buzzer"),
        )

    def command(self, text: str) -> str:
        """One request to the board (see docs/gateio-protocol.md)."""
        return self.link.request(text)

    def close(self) -> None:
        """Release the relay, stop the heartbeat and close the port; never raises."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        try:
            self.link.request("CLOSE")
        except DriverError as exc:
            log.warning("gate I/O board: release at close failed: %s", exc)
        self.link.close()

    # ---- heartbeat -------------------------------------------------------------------------

    def _board_faults(self) -> tuple[Fault, ...]:
        """Faults the controller latches for parts on this board: they end with the outage."""
        return (
            (Fault.GATEIO_FAULT, Fault.RELAY_FAULT, Fault.INDICATOR_FAULT)
            if self._io_taken
            else (Fault.GATEIO_FAULT, Fault.RELAY_FAULT)
        )

    def _active(self, name: str) -> bool:
        return self._inputs.passage if name == "passage" else self._inputs.button

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self._beat()
            except Exception:  # the heartbeat must outlive any surprise; the fault says why
                log.exception("gate I/O heartbeat round failed")
                self._lost("heartbeat round failed")
            self._last_beat = time.monotonic()

    def _beat(self) -> None:
        try:
            reply = parse_heartbeat(self.link.request("HB"))
        except GateIoError as exc:
            if self._handshake < 0 or time.monotonic() - self._last_ok >= self.deadline_s:
                self._lost(str(exc))
            return
        now = time.monotonic()
        with self._cond:
            before = self._inputs
            if self._handshake == self.link.handshakes:
                for name, old, new in (
                    ("passage", before.passage_count, reply.passage_count),
                    ("button", before.button_count, reply.button_count),
                ):
                    self._counts[name] += (new - old) % COUNTER_MODULO
            self._handshake = self.link.handshakes  # a new HELLO: the board's counters restarted
            self._inputs = reply
            self._last_ok = now
            recovered = self._fault is not None
            self._fault = None
            clear = self._clear
            self._cond.notify_all()
        if recovered:
            log.warning("gate I/O board answers heartbeats again")
            if clear is not None:
                for fault in self._board_faults():
                    clear(fault)

    def _lost(self, detail: str) -> None:
        with self._cond:
            is_new = self._fault is None
            self._fault = f"no heartbeat reply for {self.deadline_s * 1000:.0f} ms: {detail}"
            self._inputs = BoardInputs(
                passage_count=self._inputs.passage_count, button_count=self._inputs.button_count
            )
            report, fault = self._report, self._fault
            self._cond.notify_all()
        if is_new:
            log.error("gate I/O board lost: %s", detail)
            if report is not None:
                report(Fault.GATEIO_FAULT, fault)


class GateIoRelay:
    """GateRelay on the board: the board times the pulse and caps it itself."""

    def __init__(self, board: GateIoBoard) -> None:
        self._board = board
        self.name = f"relay(gate I/O board {board.link.port_name})"
        self.cap_ms = board.cap_ms
        self.pulse_ms = board.pulse_ms

    @property
    def board(self) -> GateIoBoard:
        """The board this relay is on (its inputs and indicators: board.gate_io())."""
        return self._board

    def attach_faults(self, report: FaultReport, clear: FaultClear) -> None:
        """See GateIoBoard.attach_faults."""
        self._board.attach_faults(report, clear)

    def heartbeat(self) -> float:
        """See GateIoBoard.heartbeat."""
        return self._board.heartbeat()

    @property
    def energised(self) -> bool:
        """True while the last heartbeat reported a pulse in progress."""
        return self._board.inputs.relay_left_ms > 0

    def pulse(self, duration_ms: int | None = None) -> None:
        """Ask the board for a pulse. Right after a pulse the board keeps the relay off for a
        while (ERR BUSY <ms>): then this waits that long (at most the cap) and asks again."""
        length = clamp_pulse_ms(self.pulse_ms if duration_ms is None else duration_ms, self.cap_ms)
        give_up = time.monotonic() + self.cap_ms / 1000
        while True:
            try:
                self._board.command(f"OPEN {length}")
                return
            except BoardRefusedError as exc:
                busy = exc.code == "BUSY" and exc.detail.isdigit()
                if not busy or time.monotonic() >= give_up:
                    raise RelayError(f"{self.name}: open refused: {exc}") from exc
                time.sleep((int(exc.detail) + 1) / 1000)
            except DriverError as exc:
                raise RelayError(f"{self.name}: open failed: {exc}") from exc

    def release(self) -> None:
        """Ask the board to drop the relay now; RelayError when that fails."""
        try:
            self._board.command("CLOSE")
        except DriverError as exc:
            raise RelayError(f"{self.name}: release failed: {exc}") from exc

    def close(self) -> None:
        """Close the board: relay released, heartbeat stopped, port closed."""
        self._board.close()


class GateIoInput:
    """DigitalInput from the board's debounced input, as reported by the heartbeat."""

    def __init__(self, board: GateIoBoard, name: str) -> None:
        self._board = board
        self.name = name

    @property
    def activations(self) -> int:
        """Debounced activations seen since the host started."""
        return self._board.activations(self.name)

    def is_active(self) -> bool:
        """Tell whether the last heartbeat reported this input active."""
        inputs = self._board.inputs
        return inputs.passage if self.name == "passage" else inputs.button

    def wait_for_active(self, timeout_s: float) -> bool:
        """Wait for an activation reported by a heartbeat; False on timeout."""
        return self._board.wait_for(self.name, timeout_s)

    def close(self) -> None:
        """Nothing to free: the board owns the input."""


class GateIoOutput:
    """DigitalOutput: a lamp or the buzzer on the board."""

    def __init__(self, board: GateIoBoard, code: str, name: str) -> None:
        self._board = board
        self.code = code
        self.name = name

    def on(self) -> None:
        """Switch on; DriverError when the board refuses or does not answer."""
        self._set(on=True)

    def off(self) -> None:
        """Switch off; DriverError when the board refuses or does not answer."""
        self._set(on=False)

    def close(self) -> None:
        """Switch off, logging instead of raising when the board cannot be reached."""
        try:
            self._set(on=False)
        except DriverError as exc:
            log.warning("%s", exc)

    def _set(self, *, on: bool) -> None:
        try:
            self._board.command(f"OUT {self.code} {int(on)}")
        except DriverError as exc:
            raise DriverError(f"{self.name} on the gate I/O board: {exc}") from exc
