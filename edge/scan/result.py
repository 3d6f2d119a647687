"""What the scanner hands on: one new code with its verification, source and timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from edge.credentials.result import VerificationResult
from edge.faults import Fault

ScanSource = Literal["camera", "serial"]


class ScanComponent(StrEnum):
    """A scan source as a faulty component (its fault is `fault`)."""

    CAMERA = "camera"
    SERIAL_SCANNER = "serial_scanner"

    @property
    def label(self) -> str:
        """How a fault message names it: "camera", "serial scanner"."""
        return self.value.replace("_", " ")

    @property
    def fault(self) -> Fault:
        """The fault latched while this source fails."""
        return Fault.CAMERA_FAULT if self is ScanComponent.CAMERA else Fault.SERIAL_SCANNER_FAULT


class ScanFault(str):
    """A scan source's failure: the message ("camera: ...", "serial scanner: ...") that is
    logged and shown, carrying the component it belongs to."""

    component: ScanComponent

    def __new__(cls, component: ScanComponent, detail: str) -> ScanFault:
        """Make the fault for `component`, its message prefixed with the component's label."""
        fault = super().__new__(cls, f"{component.label}: {detail}")
        fault.component = component
        return fault


@dataclass(frozen=True)
class ScanResult:
    """A newly read code. `text` is the raw code content: never log it or put it in events."""

    text: str = field(repr=False)
    source: ScanSource
    verification: VerificationResult
    frame_time: float  # monotonic capture time of the frame (camera) or line arrival (serial)
    decode_ms: float  # time spent decoding that frame (0 for the serial module)
