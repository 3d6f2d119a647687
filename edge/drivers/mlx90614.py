"""MLX90614 infrared thermometer over SMBus: PEC-checked combined reads with bounded retries."""

from __future__ import annotations

import errno
import logging
from typing import Any, Protocol

from smbus2 import i2c_msg

from edge.clock import Clock
from edge.errors import SensorError

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = 0x5A
RAM_RAW_IR_1 = 0x04  # raw IR channel 1 ADC data, sign-magnitude; noisy, so it never repeats
RAM_AMBIENT = 0x06
RAM_OBJECT_1 = 0x07
RAM_OBJECT_2 = 0x08
EEPROM_EMISSIVITY = 0x24
EEPROM_CONFIG = 0x25
KELVIN_OFFSET = 273.15
LSB_KELVIN = 0.02
ERROR_FLAG = 0x8000
STARTUP_SETTLE_S = 0.25
# Datasheet ranges of the die (ambient) and object channels; anything outside is a bad reading.
AMBIENT_RANGE_C = (-40.0, 125.0)
OBJECT_RANGE_C = (-70.0, 380.0)


class I2CBus(Protocol):
    """The part of smbus2.SMBus the driver uses: one combined transaction of i2c_msg objects."""

    def i2c_rdwr(self, *i2c_msgs: Any) -> None:
        """Run one combined I2C transaction; OSError when the bus or the device fails."""
        ...

    def close(self) -> None:
        """Close the bus device."""
        ...


def crc8(data: bytes | bytearray | list[int]) -> int:
    """SMBus PEC: CRC-8, polynomial x^8 + x^2 + x + 1 (0x07), initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte & 0xFF
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def read_pec(address: int, command: int, lsb: int, msb: int) -> int:
    """The PEC the sensor appends to a read word: over addr+W, command, addr+R, LSB, MSB."""
    return crc8([address << 1, command, (address << 1) | 1, lsb, msb])


def write_pec(address: int, command: int, lsb: int, msb: int) -> int:
    """The PEC a master appends to a write word: over addr+W, command, LSB, MSB."""
    return crc8([address << 1, command, lsb, msb])


def raw_to_celsius(raw: int) -> float:
    """Convert a RAM temperature word (0.02 K per bit) to degrees Celsius."""
    return raw * LSB_KELVIN - KELVIN_OFFSET


def celsius_to_raw(celsius: float) -> int:
    """Convert degrees Celsius to the RAM temperature word (for emulators and tests)."""
    return round((celsius + KELVIN_OFFSET) / LSB_KELVIN)


class Mlx90614:
    """One MLX90614 on an SMBus; every word is PEC-checked and error-flag-checked.

    Transient failures (I/O errors such as errno 121, PEC mismatch, the error flag) are retried up
    to `attempts` times in total; then SensorError says precisely what went wrong.
    """

    def __init__(
        self,
        bus: I2CBus,
        clock: Clock,
        address: int = DEFAULT_ADDRESS,
        attempts: int = 3,
        retry_delay_s: float = 0.005,
    ) -> None:
        if not 1 <= attempts <= 20:
            raise ValueError("attempts must be between 1 and 20")
        self._bus = bus
        self._clock = clock
        self.address = address
        self._attempts = attempts
        self._retry_delay_s = retry_delay_s
        self._ready_at = clock.monotonic() + STARTUP_SETTLE_S
        self._bus_failures = 0  # consecutive transactions that failed on the bus
        self.retries = 0
        """Count of retried transactions since creation (for diagnostics)."""
        self.resettles = 0
        """Times the sensor came back after a whole read failed on the bus (power loss?)."""

    def ambient_c(self) -> float:
        """The sensor die (ambient) temperature in °C."""
        return self._temperature(RAM_AMBIENT, AMBIENT_RANGE_C)

    def object_c(self) -> float:
        """The object (channel 1) temperature in °C."""
        return self._temperature(RAM_OBJECT_1, OBJECT_RANGE_C)

    def raw_ir(self) -> int:
        """The raw IR channel 1 ADC word (sign-magnitude as the sensor sends it). Its noise is
        many LSB, so a run of identical words means a stuck bus or sensor, not a steady scene."""
        return self.read_word(RAM_RAW_IR_1)

    def read_word(self, command: int) -> int:
        """Read one PEC-checked 16-bit word (RAM 0x00-0x1F, EEPROM 0x20-0x3F)."""
        return self._with_retries(command, check_flag=False, valid=None)

    def write_word(self, command: int, value: int) -> None:
        """Write one 16-bit word with its PEC (no erase, no read-back: see commissioning)."""
        if not 0 <= value <= 0xFFFF:
            raise ValueError("word out of range")
        lsb, msb = value & 0xFF, value >> 8
        frame = [command, lsb, msb, write_pec(self.address, command, lsb, msb)]
        self._settle()
        last: OSError | None = None
        for attempt in range(self._attempts):
            try:
                self._bus.i2c_rdwr(i2c_msg.write(self.address, frame))
                return
            except OSError as exc:
                last = exc
                self._note_retry(attempt, f"write 0x{command:02X}", exc)
        raise SensorError(f"MLX90614 write 0x{command:02X} failed: {_describe(last)}")

    def close(self) -> None:
        """Close the bus."""
        try:
            self._bus.close()
        except OSError as exc:
            log.warning("closing the I2C bus failed: %s", exc)

    # ---- internals --------------------------------------------------------------------------

    def _temperature(self, command: int, valid: tuple[float, float]) -> float:
        return raw_to_celsius(self._with_retries(command, check_flag=True, valid=valid))

    def _with_retries(
        self, command: int, *, check_flag: bool, valid: tuple[float, float] | None
    ) -> int:
        self._settle()
        problem = ""
        for attempt in range(self._attempts):
            outcome = self._try_read(command, check_flag=check_flag, valid=valid)
            if isinstance(outcome, int):
                return outcome
            problem = outcome
            self._note_retry(attempt, f"read 0x{command:02X}", problem)
        raise SensorError(f"MLX90614 read 0x{command:02X} failed {self._attempts}x: {problem}")

    def _try_read(
        self, command: int, *, check_flag: bool, valid: tuple[float, float] | None
    ) -> int | str:
        """One combined transaction; returns the word or a description of the problem."""
        write = i2c_msg.write(self.address, [command])
        read = i2c_msg.read(self.address, 3)
        try:
            self._transfer(write, read)
        except OSError as exc:
            return _describe(exc)
        data = bytes(read)
        if len(data) != 3:
            return f"short read ({len(data)} bytes)"
        lsb, msb, pec = data
        expected = read_pec(self.address, command, lsb, msb)
        if pec != expected:
            return f"PEC mismatch (got 0x{pec:02X}, expected 0x{expected:02X})"
        word = lsb | (msb << 8)
        if check_flag and word & ERROR_FLAG:
            return f"error flag set (word 0x{word:04X})"
        if valid is not None:
            celsius = raw_to_celsius(word)
            if not valid[0] <= celsius <= valid[1]:
                return f"implausible value {celsius:.2f} °C (word 0x{word:04X})"
        return word

    def _transfer(self, *msgs: Any) -> None:
        """One bus transaction. A sensor that answers again after a whole read failed on the bus
        may have lost power: its first ~250 ms of readings are invalid, so settle and repeat."""
        try:
            self._bus.i2c_rdwr(*msgs)
        except OSError:
            self._bus_failures += 1
            raise
        came_back = self._bus_failures >= self._attempts
        self._bus_failures = 0
        if came_back:
            self.resettles += 1
            log.info("MLX90614 answers again; waiting for its start-up settle before reading")
            self._ready_at = self._clock.monotonic() + STARTUP_SETTLE_S
            self._settle()
            self._transfer(*msgs)

    def _settle(self) -> None:
        wait = self._ready_at - self._clock.monotonic()
        if wait > 0:
            self._clock.sleep(wait)

    def _note_retry(self, attempt: int, what: str, problem: object) -> None:
        if attempt + 1 < self._attempts:
            self.retries += 1
            log.debug("MLX90614 %s: %s; retrying", what, problem)
            self._clock.sleep(self._retry_delay_s * (attempt + 1))


def _describe(exc: OSError | None) -> str:
    if exc is None:
        return "no attempt"
    name = errno.errorcode.get(exc.errno or 0, "?")
    hint = " (NACK: no device at this address?)" if exc.errno == errno.ENXIO else ""
    return f"I/O error errno {exc.errno} {name}{hint}: {exc.strerror or exc}"
