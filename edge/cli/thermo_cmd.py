"""`gate-edge thermo read|emissivity|measure`: commission and check the MLX90614 thermometer."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from edge.clock import Clock, FakeClock, SystemClock
from edge.errors import SensorError
from edge.thermo import commissioning
from edge.thermo.body import BodyMeter
from edge.thermo.factory import open_sensor
from edge.thermo.fake_smbus import FakeMlx90614Bus
from edge.thermo.mlx90614 import Mlx90614
from edge.thermo.scene import PROFILES
from edge.thermo.settings import ThermoSettings


def register(subparsers: Any) -> None:
    """Add the `thermo` command group."""
    parser = subparsers.add_parser("thermo", help="read and commission the IR thermometer")
    sub = parser.add_subparsers(dest="thermo_command", metavar="ACTION", required=True)

    read = sub.add_parser("read", help="print ambient and object temperatures")
    _sensor_arguments(read)
    read.add_argument("--count", type=int, default=5, help="number of readings (default 5)")
    read.add_argument("--interval", type=float, default=0.2, help="seconds between readings")
    read.set_defaults(func=_read)

    emissivity = sub.add_parser("emissivity", help="show or set the emissivity (EEPROM)")
    _sensor_arguments(emissivity)
    emissivity.add_argument("--set", type=float, dest="value", help="new emissivity, 0.1-1.0")
    emissivity.set_defaults(func=_emissivity)

    measure = sub.add_parser("measure", help="one body-temperature measurement")
    _sensor_arguments(measure)
    measure.add_argument("--threshold", type=float, default=37.3, help="fever threshold (°C)")
    measure.add_argument("--timeout", type=float, default=3.0, help="seconds to wait")
    measure.set_defaults(func=_measure)


def _sensor_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ThermoSettings()
    parser.add_argument("--bus", type=int, default=defaults.bus, help="I2C bus number")
    parser.add_argument(
        "--address", type=lambda text: int(text, 0), default=defaults.address, help="e.g. 0x5A"
    )
    parser.add_argument(
        "--fake",
        nargs="?",
        const="approaching",
        choices=sorted(PROFILES),
        help="use the emulator with a scripted scene (default: approaching)",
    )


def _open(args: argparse.Namespace) -> tuple[Mlx90614, Clock]:
    settings = replace(ThermoSettings(), bus=args.bus, address=args.address)
    if args.fake:
        fake_clock = FakeClock()
        scene = PROFILES[args.fake](fake_clock)
        bus = FakeMlx90614Bus(scene, fake_clock, address=args.address)
        return open_sensor(settings, fake_clock, bus=bus), fake_clock
    clock = SystemClock()
    return open_sensor(settings, clock), clock


def _read(args: argparse.Namespace) -> int:
    sensor, clock = _open(args)
    failures = 0
    try:
        for index in range(max(1, args.count)):
            if index:
                clock.sleep(args.interval)
            try:
                ambient, obj = sensor.ambient_c(), sensor.object_c()
            except SensorError as exc:
                failures += 1
                print(f"{index + 1}: {exc}", file=sys.stderr)
                continue
            print(f"{index + 1}: ambient {ambient:6.2f} °C  object {obj:6.2f} °C")
    finally:
        sensor.close()
    if sensor.retries:
        print(f"({sensor.retries} transaction(s) retried)", file=sys.stderr)
    return 1 if failures else 0


def _emissivity(args: argparse.Namespace) -> int:
    sensor, clock = _open(args)
    try:
        if args.value is not None:
            try:
                confirmed = commissioning.set_emissivity(sensor, clock, args.value)
            except ValueError as exc:
                print(f"gate-edge: {exc}", file=sys.stderr)
                return 2
            print(f"emissivity set to {confirmed:.4f} (verified by read-back)")
        else:
            print(f"emissivity {commissioning.read_emissivity(sensor):.4f}")
        print(commissioning.read_config(sensor).describe())
    finally:
        sensor.close()
    return 0


def _measure(args: argparse.Namespace) -> int:
    sensor, clock = _open(args)
    meter = BodyMeter(sensor, clock, ThermoSettings(), threshold_c=args.threshold)
    try:
        reading = meter.measure(args.timeout)
    finally:
        meter.close()
    estimate = "-" if reading.estimate_c is None else f"{reading.estimate_c:.2f} °C"
    print(
        f"{reading.state}: estimate {estimate}, object {reading.object_c} °C, "
        f"ambient {reading.ambient_c} °C, {reading.samples} sample(s), model {reading.model}"
        + (f" ({reading.detail})" if reading.detail else "")
    )
    return 0 if reading.state in ("normal", "fever") else 1
