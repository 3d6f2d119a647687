"""Opens every device the configuration names, or accepts simulated ones, as one bundle."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from edge.app.config import Config
from edge.clock import Clock
from edge.drivers.camera import open_frame_source
from edge.drivers.gateio import GateIoRelay
from edge.drivers.io import GateIo, open_io
from edge.drivers.relay import open_relay
from edge.drivers.serial_lines import open_line_reader
from edge.drivers.serial_scanner import open_serial_scanner
from edge.drivers.thermometer import open_thermometer
from edge.errors import GateEdgeError
from edge.faults import Fault
from edge.ports import (
    Closeable,
    FaultClear,
    FaultReport,
    FrameSource,
    GateRelay,
    LineSource,
    SelfWatching,
)
from edge.thermo.reading import ThermometerDevice

log = logging.getLogger(__name__)


@dataclass
class Hardware:
    """The gate's devices. Optional parts are None when not fitted; `faults` lists parts that
    could not be opened (the gate then runs shut and reports them)."""

    relay: GateRelay
    thermometer: ThermometerDevice
    io: GateIo = field(default_factory=GateIo)
    frames: FrameSource | None = None
    scanner: LineSource | None = None
    document_reader: LineSource | None = None
    faults: dict[Fault, str] = field(default_factory=dict)

    def start(self) -> None:
        """Start background activity (thermometer sampling) and open the document reader now,
        so that the first document is not lost while its port is still being set up."""
        self.thermometer.start()
        if self.document_reader is not None:
            try:
                self.document_reader.read_line(0.0)
            except Exception:
                log.exception("document reader could not be opened")

    def attach_faults(self, report: FaultReport, clear: FaultClear) -> None:
        """Let parts that watch themselves (the gate I/O board's heartbeat) latch and clear
        their faults in the controller."""
        for part in (self.relay, self.thermometer):
            if isinstance(part, SelfWatching):
                part.attach_faults(report, clear)

    def close(self) -> None:
        """Release the relay first, then free every device; never raises."""
        with contextlib.suppress(Exception):
            self.relay.release()
        for part in (self.frames, self.scanner, self.document_reader, self.thermometer):
            if part is not None:
                _close(part)
        with contextlib.suppress(Exception):
            self.io.close()
        with contextlib.suppress(Exception):
            self.relay.close()


def open_hardware(config: Config, clock: Clock) -> Hardware:
    """Open the configured devices. The relay and I/O lines are required (an error is raised);
    a camera, scanner or document reader that cannot be opened becomes a reported fault."""
    relay = open_relay(config.relay, clock=clock)
    try:
        if isinstance(relay, GateIoRelay) and config.io.backend == "gateio":
            io = relay.board.gate_io()
        else:
            io = open_io(config.io, clock=clock)
    except GateEdgeError:
        relay.close()
        raise
    lane_sensor = io.presence if config.thermo.presence == "input" else None
    thermometer = open_thermometer(
        config.thermo,
        clock=clock,
        presence=lane_sensor.is_active if lane_sensor is not None else None,
    )
    hardware = Hardware(relay=relay, thermometer=thermometer, io=io)
    if config.camera.source != "none":
        try:
            hardware.frames = open_frame_source(config.camera)
        except GateEdgeError as exc:
            log.error("camera could not be opened: %s", exc)
            hardware.faults[Fault.CAMERA_FAULT] = str(exc)
    if config.serial_scanner.enabled:
        try:
            hardware.scanner = open_serial_scanner(config.serial_scanner, clock)
        except GateEdgeError as exc:
            log.error("serial scanner could not be opened: %s", exc)
            hardware.faults[Fault.SERIAL_SCANNER_FAULT] = str(exc)
    if config.document_reader.enabled:
        try:
            hardware.document_reader = open_line_reader(
                config.document_reader.port,
                config.document_reader.baudrate,
                config.document_reader.terminator,
            )
        except GateEdgeError as exc:
            log.error("document reader could not be opened: %s", exc)
            hardware.faults[Fault.DOCUMENT_READER_FAULT] = str(exc)
    return hardware


def _close(part: Closeable) -> None:
    try:
        part.close()
    except Exception:
        log.exception("%s.close failed", type(part).__name__)
