"""Devices are used through their Protocols: no reflection on devices, and every real and fake
device conforms to the Protocol it is used as."""

from __future__ import annotations

import ast
from pathlib import Path

from edge.app.hardware import Hardware
from edge.clock import FakeClock
from edge.drivers.fake_gpio import FakeChip
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.mlx90614 import Mlx90614
from edge.drivers.relay import open_relay
from edge.drivers.settings import RelaySettings
from edge.ports import Closeable, Heartbeat, SelfWatching, Startable
from edge.sim.rig import SimGate
from edge.thermo.reading import ThermometerDevice
from edge.thermo.sampler import RawIrSensor
from edge.thermo.scene import PersonScene

ROOT = Path(__file__).resolve().parent.parent / "edge"

# Where devices are held or driven. Reflection elsewhere (an exception's strerror, a type
# hint's name, a settings field) is not device access.
DEVICE_CODE = [
    ROOT / "app" / "gate.py",
    ROOT / "app" / "hardware.py",
    ROOT / "app" / "runner.py",
    ROOT / "core",
    ROOT / "scan",
    ROOT / "thermo",
    ROOT / "drivers",
    ROOT / "sim",
    ROOT / "platform",
    ROOT / "doctor" / "devices.py",
    ROOT / "service",
]
_REFLECTION = {"getattr", "hasattr"}


def _modules() -> list[Path]:
    found: list[Path] = []
    for place in DEVICE_CODE:
        found.extend(sorted(place.rglob("*.py")) if place.is_dir() else [place])
    return found


def reflective_calls(source: str) -> list[int]:
    """Lines that call getattr or hasattr."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _REFLECTION
    ]


def test_the_check_finds_reflection() -> None:
    assert reflective_calls("beat = getattr(relay, 'heartbeat', None)\n") == [1]
    assert reflective_calls("relay.heartbeat()\n") == []


def test_no_device_is_reached_through_getattr() -> None:
    modules = _modules()
    assert len(modules) > 40
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in modules
        if (lines := reflective_calls(path.read_text()))
    }
    assert offenders == {}


def test_the_simulated_gate_uses_complete_devices() -> None:
    sim = SimGate(FakeClock())
    hardware: Hardware = sim.hardware
    thermometer: ThermometerDevice = hardware.thermometer
    assert isinstance(thermometer, Startable) and isinstance(thermometer, Closeable)
    assert thermometer.stats().faults == 0
    assert not isinstance(hardware.relay, SelfWatching)
    hardware.close()


def test_optional_capabilities_are_recognised_on_real_drivers() -> None:
    relay = open_relay(RelaySettings(backend="fake"), gpio=FakeChip())
    assert not isinstance(relay, Heartbeat)  # a GPIO line has no thread of its own
    relay.close()
    clock = FakeClock()
    sensor = Mlx90614(FakeMlx90614Bus(PersonScene(clock, ambient_c=23.0), clock), clock)
    assert isinstance(sensor, RawIrSensor)
    assert isinstance(sensor.raw_ir(), int)
