"""MLX90614 EEPROM commissioning (emissivity, filter config); never used by the service loop."""

from __future__ import annotations

from dataclasses import dataclass

from edge.clock import Clock
from edge.drivers.mlx90614 import EEPROM_CONFIG, EEPROM_EMISSIVITY, Mlx90614
from edge.errors import SensorError

# The datasheet asks for >= 5 ms after each EEPROM write; Linux's driver waits 20 ms.
EEPROM_WRITE_WAIT_S = 0.02
EMISSIVITY_RANGE = (0.1, 1.0)


@dataclass(frozen=True)
class FilterConfig:
    """The fields of config register 1 (EEPROM 0x25) that matter for body measurement."""

    word: int
    iir: int
    fir: int
    dual_sensor: bool

    @classmethod
    def decode(cls, word: int) -> FilterConfig:
        """Split a config register word into its fields."""
        return cls(word=word, iir=word & 0x7, fir=(word >> 8) & 0x7, dual_sensor=bool(word & 0x40))

    def describe(self) -> str:
        """Say in one line what the filters and sensor setting mean for a measurement."""
        iir_percent = {0: 50, 1: 25, 2: 17, 3: 13, 4: 100, 5: 80, 6: 67, 7: 57}[self.iir]
        fir_length = 2 ** (self.fir + 3)
        sensors = "dual" if self.dual_sensor else "single"
        return (
            f"config 0x{self.word:04X}: IIR {iir_percent} % (bits {self.iir}), "
            f"FIR {fir_length} (bits {self.fir}), {sensors} IR sensor"
        )


def emissivity_to_word(emissivity: float) -> int:
    """EEPROM emissivity word: round(65535 * e), e in 0.1..1.0."""
    low, high = EMISSIVITY_RANGE
    if not low <= emissivity <= high:
        raise ValueError(f"emissivity must be between {low} and {high}, got {emissivity}")
    return round(65535 * emissivity)


def word_to_emissivity(word: int) -> float:
    """Turn an EEPROM emissivity word back into the emissivity (65535 is 1.0)."""
    return word / 65535


def read_emissivity(sensor: Mlx90614) -> float:
    """The emissivity the sensor compensates for."""
    return word_to_emissivity(sensor.read_word(EEPROM_EMISSIVITY))


def read_config(sensor: Mlx90614) -> FilterConfig:
    """Config register 1 (IIR/FIR filters, sensor count)."""
    return FilterConfig.decode(sensor.read_word(EEPROM_CONFIG))


def write_eeprom(sensor: Mlx90614, clock: Clock, command: int, value: int) -> None:
    """Erase (write 0x0000), wait, write `value`, wait, then read back; SensorError on mismatch."""
    if not 0x20 <= command <= 0x3F:
        raise ValueError("EEPROM commands are 0x20-0x3F")
    sensor.write_word(command, 0x0000)
    clock.sleep(EEPROM_WRITE_WAIT_S)
    sensor.write_word(command, value)
    clock.sleep(EEPROM_WRITE_WAIT_S)
    stored = sensor.read_word(command)
    if stored != value:
        raise SensorError(
            f"EEPROM 0x{command:02X} reads back 0x{stored:04X} after writing 0x{value:04X}"
        )


def set_emissivity(sensor: Mlx90614, clock: Clock, emissivity: float) -> float:
    """Store a new emissivity and return the value read back (unchanged writes are skipped)."""
    word = emissivity_to_word(emissivity)
    if sensor.read_word(EEPROM_EMISSIVITY) != word:
        write_eeprom(sensor, clock, EEPROM_EMISSIVITY, word)
    return read_emissivity(sensor)
