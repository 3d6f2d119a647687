"""`gate-edge thermo read|emissivity|measure`: commission and check the MLX90614 thermometer."""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from typing import Any

from edge.app.config import load_config
from edge.clock import Clock, FakeClock, SystemClock
from edge.core.settings import PolicySettings
from edge.core.temperature import measure_temperature
from edge.drivers import mlx90614_commissioning as commissioning
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.mlx90614 import Mlx90614
from edge.drivers.settings import ThermoSettings
from edge.drivers.thermometer import open_sensor
from edge.errors import I2cBusError, SensorError
from edge.thermo.body import BodyMeter
from edge.thermo.scene import PROFILES


def register(subparsers: Any) -> None:
    """Add the `thermo` command group."""
    parser = subparsers.add_parser("thermo", help="read and commission the IR thermometer")
    sub = parser.add_subparsers(dest="thermo_command", metavar="ACTION", required=True)
    defaults_shown = argparse.ArgumentDefaultsHelpFormatter

    read = sub.add_parser(
        "read", help="print ambient and object temperatures", formatter_class=defaults_shown
    )
    _sensor_arguments(read)
    read.add_argument("--count", type=int, default=5, help="number of readings")
    read.add_argument("--interval", type=float, default=0.2, help="seconds between readings")
    read.set_defaults(func=_read)

    emissivity = sub.add_parser(
        "emissivity", help="show or set the emissivity (EEPROM)", formatter_class=defaults_shown
    )
    _sensor_arguments(emissivity)
    emissivity.add_argument("--set", type=float, dest="value", help="new emissivity, 0.1-1.0")
    emissivity.add_argument(
        "--yes", action="store_true", help="write the EEPROM without asking (for scripts)"
    )
    emissivity.set_defaults(func=_emissivity)

    measure = sub.add_parser(
        "measure",
        help="one body-temperature measurement with the configured model, threshold, re-measures",
        formatter_class=defaults_shown,
    )
    _sensor_arguments(measure)
    measure.add_argument(
        "--threshold",
        type=float,
        help="fever threshold in °C (default: policy.fever_threshold_c of --config, else "
        f"{PolicySettings().fever_threshold_c})",
    )
    measure.add_argument("--timeout", type=float, default=3.0, help="seconds to wait")
    measure.set_defaults(func=_measure)


def _sensor_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ThermoSettings()
    parser.add_argument(
        "--config",
        help="gate configuration: bus, address and model from [thermo], threshold from [policy]",
    )
    parser.add_argument("--json", action="store_true", help="JSON output for scripts")
    parser.add_argument(
        "--bus", type=int, help=f"I2C bus number (default: thermo.bus, else {defaults.bus})"
    )
    parser.add_argument(
        "--address",
        type=lambda text: int(text, 0),
        help=f"e.g. 0x5A (default: thermo.address, else 0x{defaults.address:02X})",
    )
    parser.add_argument(
        "--fake",
        nargs="?",
        const="approaching",
        choices=sorted(PROFILES),
        help="use the emulator with a scripted scene (default: approaching)",
    )


def _settings(args: argparse.Namespace) -> tuple[ThermoSettings, PolicySettings]:
    """Thermometer and policy settings: the gate's configuration, then the options given."""
    if args.config:
        config = load_config(args.config)
        settings, policy = config.thermo, config.policy
    else:
        settings, policy = ThermoSettings(), PolicySettings()
    if args.bus is not None:
        settings = replace(settings, bus=args.bus)
    if args.address is not None:
        settings = replace(settings, address=args.address)
    return settings, policy


def _open(args: argparse.Namespace) -> tuple[Mlx90614, Clock]:
    settings = _settings(args)[0]
    if args.fake:
        fake_clock = FakeClock()
        scene = PROFILES[args.fake](fake_clock)
        bus = FakeMlx90614Bus(scene, fake_clock, address=settings.address)
        return open_sensor(settings, fake_clock, bus=bus), fake_clock
    clock = SystemClock()
    return open_sensor(settings, clock), clock


def _read(args: argparse.Namespace) -> int:
    sensor, clock = _open(args)
    failures = 0
    rows: list[dict[str, Any]] = []
    try:
        for index in range(max(1, args.count)):
            if index:
                clock.sleep(args.interval)
            try:
                ambient, obj = sensor.ambient_c(), sensor.object_c()
            except I2cBusError as exc:
                # The bus device itself is missing: every further read would say the same.
                failures += 1
                rows.append({"n": index + 1, "error": str(exc)})
                if not args.json:
                    print(f"gate-edge: {exc}", file=sys.stderr)
                break
            except SensorError as exc:
                failures += 1
                rows.append({"n": index + 1, "error": str(exc)})
                if not args.json:
                    print(f"{index + 1}: {exc}", file=sys.stderr)
                continue
            rows.append({"n": index + 1, "ambient_c": _c(ambient), "object_c": _c(obj)})
            if not args.json:
                print(f"{index + 1}: ambient {ambient:6.2f} °C  object {obj:6.2f} °C")
    finally:
        sensor.close()
    if args.json:
        print(json.dumps({"readings": rows, "retries": sensor.retries, "failures": failures}))
    elif sensor.retries:
        print(f"({sensor.retries} transaction(s) retried)", file=sys.stderr)
    return 1 if failures else 0


def _c(value: float | None) -> float | None:
    """A temperature for JSON: hundredths of a degree (the sensor's resolution), None if unknown."""
    return None if value is None or not math.isfinite(value) else round(value, 2)


def _confirm_write(args: argparse.Namespace, current: float) -> bool:
    """The EEPROM has a limited number of writes and the value changes every reading: ask."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(
            "gate-edge: thermo emissivity --set writes the sensor's EEPROM; add --yes to write "
            "without asking",
            file=sys.stderr,
        )
        return False
    answer = input(
        f"write emissivity {args.value:.4f} to the sensor's EEPROM (now {current:.4f})? [y/N] "
    )
    return answer.strip().lower() in ("y", "yes")


def _emissivity(args: argparse.Namespace) -> int:
    sensor, clock = _open(args)
    try:
        written = False
        if args.value is not None:
            try:
                commissioning.emissivity_to_word(args.value)  # out of range: refused before asking
            except ValueError as exc:
                print(f"gate-edge: {exc}", file=sys.stderr)
                return 2
            if not _confirm_write(args, commissioning.read_emissivity(sensor)):
                return 2
        if args.value is not None:
            try:
                value = commissioning.set_emissivity(sensor, clock, args.value)
            except ValueError as exc:
                print(f"gate-edge: {exc}", file=sys.stderr)
                return 2
            written = True
        else:
            value = commissioning.read_emissivity(sensor)
        filters = commissioning.read_config(sensor).describe()
    finally:
        sensor.close()
    if args.json:
        print(json.dumps({"emissivity": round(value, 4), "written": written, "config": filters}))
    elif written:
        print(f"emissivity set to {value:.4f} (verified by read-back)")
        print(filters)
    else:
        print(f"emissivity {value:.4f}")
        print(filters)
    return 0


def _measure(args: argparse.Namespace) -> int:
    settings, policy = _settings(args)
    threshold = policy.fever_threshold_c if args.threshold is None else args.threshold
    sensor, clock = _open(args)
    meter = BodyMeter(sensor, clock, settings)
    try:
        reading = measure_temperature(
            meter, clock, args.timeout, threshold_c=threshold, remeasure=policy.remeasure_count
        )
    finally:
        meter.close()
    if args.json:
        document = {
            "state": reading.state,
            "estimate_c": _c(reading.estimate_c),
            "object_c": _c(reading.object_c),
            "ambient_c": _c(reading.ambient_c),
            "samples": reading.samples,
            "model": reading.model,
            "threshold_c": threshold,
            "detail": reading.detail,
            "measurements": [
                {"state": m.state, "estimate_c": _c(m.estimate_c)} for m in reading.measurements
            ],
        }
        print(json.dumps(document))
    else:
        estimate = "-" if reading.estimate_c is None else f"{reading.estimate_c:.2f} °C"
        print(
            f"{reading.state}: estimate {estimate}, object {_c(reading.object_c)} °C, "
            f"ambient {_c(reading.ambient_c)} °C, {reading.samples} sample(s), model "
            f"{reading.model}, threshold {threshold:.2f} °C"
            + (f" ({reading.detail})" if reading.detail else "")
        )
    return 0 if reading.state in ("normal", "fever") else 1
