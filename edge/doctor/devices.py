"""The doctor's device checks: each part opened, read once and closed; the relay is never pulsed."""

from __future__ import annotations

import contextlib
import math

import cv2
import numpy as np

from edge.app.config import Config
from edge.clock import Clock
from edge.doctor.report import CheckResult, failed, passed, skipped, warned
from edge.drivers.camera import open_frame_source
from edge.drivers.gate_parts import describe_io, describe_relay, io_places, open_gate_io
from edge.drivers.gateio import GateIoRelay
from edge.drivers.gateio_frames import FIRMWARE_VERSION
from edge.drivers.relay import open_relay
from edge.drivers.serial_lines import open_line_reader
from edge.drivers.serial_ports import candidates_text
from edge.drivers.serial_scanner import open_serial_scanner
from edge.drivers.thermometer import open_sensor
from edge.errors import GateEdgeError, SensorError
from edge.ports import Frame

FRAME_WAIT_S = 5.0
FOCUS_WARN = 50.0
THERMO_READS = 5
AMBIENT_RANGE_C = (-10.0, 50.0)
_HELD = (
    "if the service runs it holds the devices: sudo systemctl stop gate-edge, run the doctor, "
    "then start it again"
)


def focus_score(frame: Frame) -> float:
    """Variance of the Laplacian of the grey image: higher is sharper (a QR code at the right
    distance in focus scores in the hundreds; a blurred or blank view stays near zero)."""
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray.astype(np.float64), cv2.CV_64F).var())


def check_camera(config: Config) -> CheckResult:
    """Open the camera, grab one frame and judge its focus."""
    name, settings = "device.camera", config.camera
    if settings.source == "none":
        return skipped(name, "no camera configured (camera.source = none)")
    where = settings.replay_path if settings.source == "replay" else settings.device
    try:
        source = open_frame_source(settings)
    except GateEdgeError as exc:
        return failed(name, f"{settings.source} {where}: {exc}", f"check the cable and {where}")
    try:
        got = source.read(FRAME_WAIT_S)
    except GateEdgeError as exc:
        return failed(name, f"{where}: {exc}", f"check the cable and {where}; {_HELD}")
    finally:
        with contextlib.suppress(Exception):
            source.close()
    if got is None:
        return failed(
            name,
            f"no frame from {settings.source} {where} within {FRAME_WAIT_S:g} s",
            f"check the cable, the device node {where} and the video group; {_HELD}",
        )
    frame = got[1]
    score = focus_score(frame)
    detail = (
        f"{settings.source} {where}: {frame.shape[1]}x{frame.shape[0]} frame, focus {score:.0f}"
    )
    if score < FOCUS_WARN:
        return warned(
            name,
            f"{detail} (blurred or nothing in view)",
            "hold a QR code where visitors show theirs and turn the lens until focus rises",
        )
    return passed(name, detail)


def check_thermometer(config: Config, clock: Clock) -> CheckResult:
    """Read the thermometer a few times; fail on no PEC-valid reading or an implausible ambient."""
    name, settings = "device.thermometer", config.thermo
    where = "emulator" if settings.backend == "fake" else f"/dev/i2c-{settings.bus}"
    where += f" address 0x{settings.address:02X}"
    sensor = open_sensor(settings, clock)
    good, ambient = 0, math.nan
    problem = ""
    try:
        for _ in range(THERMO_READS):
            try:
                ambient = sensor.ambient_c()
                sensor.object_c()
                good += 1
            except SensorError as exc:
                problem = str(exc)
    finally:
        sensor.close()
    if good == 0:
        return failed(
            name,
            f"{where}: no PEC-valid reading ({problem})",
            "enable I2C (raspi-config, or dtparam=i2c_arm=on in /boot/firmware/config.txt), "
            "check wiring and address (i2cdetect -y BUS), i2c group",
        )
    detail = f"{where}: {good}/{THERMO_READS} PEC-valid reads, ambient {ambient:.1f} °C"
    low, high = AMBIENT_RANGE_C
    if not low <= ambient <= high:
        return failed(name, f"{detail}: not a plausible ambient", "sensor faulty or misread")
    if good < THERMO_READS:
        return warned(name, f"{detail}; last error: {problem}", "check the wiring and pull-ups")
    return passed(name, detail)


def check_relay(config: Config, config_path: str) -> CheckResult:
    """Open the relay and hold it released (never pulsed); warn on a stale gate I/O firmware."""
    name, settings = "device.relay", config.relay
    where = describe_relay(settings)
    try:
        relay = open_relay(settings)
    except GateEdgeError as exc:
        return failed(name, f"{where}: {exc}", _relay_fix(config, config_path))
    firmware = ""
    try:
        relay.release()
        if isinstance(relay, GateIoRelay):
            firmware = relay.board.link.info.firmware if relay.board.link.info else "?"
    except GateEdgeError as exc:
        return failed(name, f"{where}: cannot drive the relay: {exc}", "check the relay board")
    finally:
        with contextlib.suppress(Exception):
            relay.close()
    detail = f"{where}: opened and held released (not pulsed: gate-edge relay pulse)"
    if firmware and firmware != FIRMWARE_VERSION:
        return warned(
            name,
            f"{where}: the board runs firmware {firmware}, this release ships {FIRMWARE_VERSION}",
            f"sudo systemctl stop gate-edge; gate-edge gateio flash --config {config_path}",
        )
    if firmware:
        detail = f"{where} (firmware {firmware}): opened and held released (not pulsed)"
    return passed(name, detail)


def _relay_fix(config: Config, config_path: str) -> str:
    settings = config.relay
    if settings.backend == "gateio":
        return (
            f"plug the board in and name its port in relay.port ({candidates_text()}); "
            f"`gate-edge gateio status --config {config_path}` shows what answers (a board "
            f"without the gate firmware: gate-edge gateio flash --config {config_path}); {_HELD}"
        )
    if settings.backend == "serial":
        return f"name the LCUS board's port in relay.port (ls /dev/serial/by-id/); {_HELD}"
    return f"relay.chip and relay.line (gpioinfo {settings.chip}); {_HELD}"


def check_inputs(config: Config) -> CheckResult:
    """Read every configured input once and switch every output off."""
    name, settings = "device.io", config.io
    where = describe_io(config.relay, settings)
    places = io_places(settings)
    try:
        io = open_gate_io(config.relay, settings)
    except GateEdgeError as exc:
        fix = (
            f"name the board's port in relay.port ({candidates_text()})"
            if settings.backend == "gateio"
            else "line numbers in [io] (gpioinfo shows the lines)"
        )
        return failed(name, f"{where}: {exc}", f"{fix}; {_HELD}")
    states = []
    try:
        for label, line in io.inputs().items():
            active = "active" if line.is_active() else "inactive"
            states.append(f"{label} ({places.get(label, '?')}) {active}")
        for label, output in io.outputs().items():
            output.off()
            states.append(f"{label} ({places.get(label, '?')}) off")
    except GateEdgeError as exc:
        return failed(name, f"{where}: {exc}", "check wiring and the lines in [io]")
    finally:
        io.close()
    if not states:
        return skipped(name, "no input or output lines configured")
    return passed(name, f"{where}: " + ", ".join(states) + " (outputs: gate-edge io test)")


def check_serial_parts(config: Config, clock: Clock) -> list[CheckResult]:
    """Open the serial scanner and document reader, when enabled, and read each once."""
    results = []
    if config.serial_scanner.enabled:
        port = config.serial_scanner.port
        try:
            scanner = open_serial_scanner(config.serial_scanner, clock)
            try:
                scanner.read_line(0.0)
            finally:
                scanner.close()
            results.append(passed("device.serial_scanner", f"{port} opened"))
        except GateEdgeError as exc:
            results.append(
                failed("device.serial_scanner", f"{port}: {exc}", f"port name, dialout; {_HELD}")
            )
    if config.document_reader.enabled:
        port = config.document_reader.port
        try:
            reader = open_line_reader(
                port, config.document_reader.baudrate, config.document_reader.terminator
            )
            try:
                reader.read_line(0.0)
            finally:
                reader.close()
            results.append(passed("device.document_reader", f"{port} opened"))
        except GateEdgeError as exc:
            results.append(
                failed("device.document_reader", f"{port}: {exc}", f"port name, dialout; {_HELD}")
            )
    return results
