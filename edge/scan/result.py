"""What the scanner hands on: one new code with its verification, source and timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from edge.credentials.result import VerificationResult

ScanSource = Literal["camera", "serial"]


@dataclass(frozen=True)
class ScanResult:
    """A newly read code. `text` is the raw code content: never log it or put it in events."""

    text: str = field(repr=False)
    source: ScanSource
    verification: VerificationResult
    frame_time: float  # monotonic capture time of the frame (camera) or line arrival (serial)
    decode_ms: float  # time spent decoding that frame (0 for the serial module)
