"""An SMBus emulating an MLX90614 (RAM, EEPROM, PEC, start-up) with injectable bus faults."""

from __future__ import annotations

import ctypes
import enum
import errno
import random
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from edge.clock import Clock
from edge.drivers.mlx90614 import (
    DEFAULT_ADDRESS,
    ERROR_FLAG,
    RAM_AMBIENT,
    RAM_OBJECT_1,
    RAM_OBJECT_2,
    RAM_RAW_IR_1,
    STARTUP_SETTLE_S,
    celsius_to_raw,
    read_pec,
    write_pec,
)
from edge.thermo.scene import PersonScene

I2C_M_RD = 0x0001
EEPROM_WRITE_BUSY_S = 0.005
RAW_IR_PER_KELVIN = 40.0  # emulated raw IR counts per kelvin of object-to-die difference
# Factory EEPROM contents of a typical MLX90614ESF-AAA (cells 0x20-0x3F by command).
FACTORY_EEPROM = {
    0x20: 0x9993,  # To max
    0x21: 0x62E3,  # To min
    0x22: 0x0201,  # PWM control
    0x23: 0xF71C,  # Ta range
    0x24: 0xFFFF,  # emissivity 1.0
    0x25: 0x9FB4,  # config register 1: IIR 100 %, FIR 1024, single IR sensor
    0x2E: 0xBE5A,  # SMBus address 0x5A
    0x3C: 0x1C09,  # ID numbers
    0x3D: 0x8A2F,
    0x3E: 0x0B0D,
    0x3F: 0x9D1B,
}


class BusFault(enum.Enum):
    """A fault that the emulated bus applies to one transaction."""

    NACK = "nack"  # OSError errno 6 (ENXIO): the device did not acknowledge
    REMOTE_IO = "remote_io"  # OSError errno 121: Pi clock-stretching glitch
    BAD_PEC = "bad_pec"  # the PEC byte arrives corrupted (on a write: the write is ignored)
    CORRUPT_DATA = "corrupt_data"  # a data bit flips on the wire (PEC no longer matches)
    ERROR_FLAG = "error_flag"  # the sensor sets bit 15 (valid PEC)
    STUCK = "stuck"  # RAM returns the value frozen when the stuck run began


class FakeMlx90614Bus:
    """Implements smbus2.SMBus.i2c_rdwr (and close) by emulating one MLX90614.

    Faults come from a queue (inject) and/or a per-transaction plan (fault_plan(index)).
    An EEPROM write with a wrong PEC is acknowledged and silently ignored, as the sensor does.
    """

    def __init__(
        self,
        scene: PersonScene,
        clock: Clock,
        address: int = DEFAULT_ADDRESS,
        powered_at: float | None = None,
        fault_plan: Callable[[int], BusFault | None] | None = None,
    ) -> None:
        self.scene = scene
        self._clock = clock
        self.address = address
        self._powered_at = clock.monotonic() if powered_at is None else powered_at
        self.fault_plan = fault_plan
        self.eeprom: dict[int, int] = dict.fromkeys(range(0x20, 0x40), 0x0000) | FACTORY_EEPROM
        self.transactions = 0
        self.faults_applied: list[BusFault] = []
        self.reads_before_ready = 0
        self.ignored_writes = 0
        self.writes_without_erase = 0
        self.closed = False
        self._queue: deque[BusFault] = deque()
        self._stuck: dict[int, int] | None = None
        self._stuck_forever = False
        self._busy_until = -1.0
        self._noise = random.Random(address)
        self._lock = threading.Lock()

    # ---- test and demo controls ---------------------------------------------------------------

    def inject(self, fault: BusFault, count: int = 1) -> None:
        """Apply `fault` to each of the next `count` transactions."""
        with self._lock:
            self._queue.extend([fault] * count)

    def stick(self) -> None:
        """Freeze the RAM values as they are now until unstick()."""
        with self._lock:
            self._stuck = self._snapshot()
            self._stuck_forever = True

    def unstick(self) -> None:
        """Let the RAM values follow the scene again."""
        with self._lock:
            self._stuck = None
            self._stuck_forever = False

    def power_off(self) -> None:
        """Cut the sensor's supply: every transaction is NACKed until power_on()."""
        with self._lock:
            self._powered_at = float("inf")

    def power_on(self) -> None:
        """Restore the supply now: the sensor answers, but reads invalid words while it settles."""
        with self._lock:
            self._powered_at = self._clock.monotonic()

    def arrive(self, skin_c: float, approach_s: float = 0.0) -> None:
        """A person with forehead skin temperature `skin_c` steps up now."""
        self.scene.arrive(skin_c, approach_s)

    def leave(self) -> None:
        """The person walks away now."""
        self.scene.leave()

    # ---- the smbus2.SMBus surface -------------------------------------------------------------

    def i2c_rdwr(self, *i2c_msgs: Any) -> None:
        """Run one combined transaction of smbus2.i2c_msg objects."""
        with self._lock:
            self._transaction(list(i2c_msgs))

    def close(self) -> None:
        """Mark the bus closed."""
        self.closed = True

    # ---- emulation ----------------------------------------------------------------------------

    def _transaction(self, msgs: list[Any]) -> None:
        index = self.transactions
        self.transactions += 1
        fault = self._queue.popleft() if self._queue else None
        if fault is None and self.fault_plan is not None:
            fault = self.fault_plan(index)
        if fault is not None:
            self.faults_applied.append(fault)
        if fault is not BusFault.STUCK and not self._stuck_forever:
            self._stuck = None
        wrong_address = any(msg.addr not in (self.address, 0x00) for msg in msgs)
        unpowered = self._powered_at == float("inf")
        if wrong_address or unpowered or fault is BusFault.NACK:
            raise OSError(errno.ENXIO, "No such device or address")
        if fault is BusFault.REMOTE_IO:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        if self._clock.monotonic() < self._busy_until:
            raise OSError(errno.ENXIO, "No such device or address")
        first = bytes(msgs[0]) if msgs else b""
        if len(msgs) == 1 and not msgs[0].flags & I2C_M_RD and len(first) == 4:
            if fault in (BusFault.BAD_PEC, BusFault.CORRUPT_DATA):
                first = first[:3] + bytes([first[3] ^ 0x5A])
            self._write(msgs[0].addr, first)
            return
        if len(msgs) != 2 or len(first) != 1 or not msgs[1].flags & I2C_M_RD:
            raise OSError(errno.EIO, "Input/output error")
        self._read(msgs[0].addr, first[0], msgs[1], fault)

    def _read(self, addr: int, command: int, out: Any, fault: BusFault | None) -> None:
        word = self._word(command, fault)
        lsb, msb = word & 0xFF, word >> 8
        pec = read_pec(addr, command, lsb, msb)
        if fault is BusFault.BAD_PEC:
            pec ^= 0x5A
        elif fault is BusFault.CORRUPT_DATA:
            msb ^= 0x04  # about 20 °C off: a wrong temperature only the PEC can catch
        reply = bytes([lsb, msb, pec, 0xFF])[: out.len]
        ctypes.memmove(out.buf, reply, len(reply))

    def _word(self, command: int, fault: BusFault | None) -> int:
        if 0x20 <= command <= 0x3F:
            return self.eeprom[command]
        if command not in (RAM_RAW_IR_1, RAM_AMBIENT, RAM_OBJECT_1, RAM_OBJECT_2):
            return 0x0000
        if self._clock.monotonic() < self._powered_at + STARTUP_SETTLE_S:
            self.reads_before_ready += 1
            return 0x0000
        if fault is BusFault.STUCK and self._stuck is None:
            self._stuck = self._snapshot()
        ram = self._stuck if self._stuck is not None else self._snapshot()
        word = ram[command]
        if fault is BusFault.ERROR_FLAG:
            word |= ERROR_FLAG
        return word

    def _snapshot(self) -> dict[int, int]:
        object_c, ambient_c = self.scene.object_c(), self.scene.ambient_c()
        obj = celsius_to_raw(object_c) & 0x7FFF
        # Raw IR tracks the object-to-die difference, with ADC noise of several LSB.
        ir = round((object_c - ambient_c) * RAW_IR_PER_KELVIN + self._noise.gauss(0.0, 8.0))
        return {
            RAM_RAW_IR_1: (0x8000 | min(-ir, 0x7FFF)) if ir < 0 else min(ir, 0x7FFF),
            RAM_AMBIENT: celsius_to_raw(ambient_c) & 0x7FFF,
            RAM_OBJECT_1: obj,
            RAM_OBJECT_2: obj,
        }

    def _write(self, addr: int, frame: bytes) -> None:
        command, lsb, msb, pec = frame
        if not 0x20 <= command <= 0x3F or pec != write_pec(addr, command, lsb, msb):
            self.ignored_writes += 1
            return
        value = lsb | (msb << 8)
        old = self.eeprom[command]
        if value != 0 and old != 0:
            # Undefined on the real part; OR-ing makes a missing erase visible on read-back.
            self.writes_without_erase += 1
            value |= old
        self.eeprom[command] = value
        self._busy_until = self._clock.monotonic() + EEPROM_WRITE_BUSY_S
