"""Configuration of code sources: camera, decoding loop, serial scanner module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge.configschema import setting


@dataclass(frozen=True)
class CameraSettings:
    """The frame source."""

    source: Literal["usb", "csi", "replay", "none"] = setting("usb", doc="Frame source kind.")
    device: str = setting("/dev/video0", doc="USB camera device (usb).")
    width: int = setting(1280, minimum=160, maximum=4096, doc="Capture width in pixels.")
    height: int = setting(720, minimum=120, maximum=3072, doc="Capture height in pixels.")
    fps: int = setting(30, minimum=1, maximum=120, doc="Capture frame rate.")
    replay_path: str = setting("", doc="Video file or image folder (replay).")
    replay_fps: float = setting(15.0, minimum=0.1, maximum=240.0, doc="Replay frame rate.")
    replay_loop: bool = setting(True, doc="Restart the replay at its end.")


@dataclass(frozen=True)
class ScanSettings:
    """The decoding loop."""

    frame_budget_ms: float = setting(
        40.0, minimum=1.0, maximum=1000.0, doc="Time budget for decoding one frame."
    )
    debounce_s: float = setting(
        3.0,
        minimum=0.0,
        maximum=60.0,
        doc="The same code (issuer and code id, whatever its QR text) is reported once per this "
        "window.",
    )
    idle_skip: bool = setting(True, doc="Skip decoding frames unchanged while idle.")
    idle_diff_threshold: float = setting(
        3.0,
        minimum=0.0,
        maximum=255.0,
        doc="Mean grey-level change on a 32x18 thumbnail below which an idle frame is skipped.",
    )
    max_frame_age_s: float = setting(
        0.5, minimum=0.01, maximum=10.0, doc="Frames older than this when read are dropped."
    )
    fallbacks: bool = setting(True, doc="Run the fallback decoding passes within the budget.")


@dataclass(frozen=True)
class SerialScannerSettings:
    """An optional serial QR scanner module as a second code source."""

    enabled: bool = setting(False, doc="Use a serial scanner module.")
    port: str = setting("/dev/serial/by-id/", doc="Serial port; prefer /dev/serial/by-id/...")
    baudrate: int = setting(9600, minimum=1200, maximum=921600, doc="Baud rate (8N1).")
    protocol: Literal["gm65-command", "gm65-continuous", "honeywell", "lines"] = setting(
        "gm65-continuous", doc="Scanner protocol."
    )
    terminator: Literal["cr", "lf", "crlf", "tab", "none"] = setting(
        "cr", doc="Terminator after each decoded text."
    )
    trigger_interval_s: float = setting(
        2.0, minimum=0.2, maximum=60.0, doc="Re-trigger period in command/trigger modes."
    )
    max_line_length: int = setting(
        4096, minimum=16, maximum=65536, doc="Longer lines are discarded as garbage."
    )
