"""Scan sources named on the command line: usb[:DEV], csi, replay:PATH[@FPS], serial:PORT."""

from __future__ import annotations

import math
from pathlib import Path

from edge.drivers.camera import CsiCamera, UsbCamera
from edge.drivers.camera_replay import ReplayFrameSource
from edge.drivers.serial_lines import ReconnectingPort
from edge.drivers.serial_scanner import SerialQrScanner
from edge.errors import CameraError
from edge.ports import FrameSource, LineSource

DEFAULT_REPLAY_FPS = 15.0
SOURCE_USAGE = "usb[:DEV], csi, replay:PATH[@FPS], serial:PORT[:protocol]"


def _positive(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def parse_replay_spec(rest: str) -> tuple[str, float]:
    """PATH and frame rate from the PATH[@FPS] of `replay:PATH[@FPS]`.

    The text after the last '@' is the frame rate only if it is a positive number (and the whole
    is not an existing path); otherwise it belongs to the path. Raises CameraError on an empty
    path, or on a bad rate after an existing path (`replay:DIR@abc`)."""
    path, at, suffix = rest.rpartition("@")
    fps = None
    if at and not (Path(rest).exists() and not Path(path).exists()):
        fps = _positive(suffix)
        if fps is None and Path(path).exists() and not Path(rest).exists():
            raise CameraError(
                f"bad frame rate {suffix!r} in replay:{rest} (replay:PATH[@FPS], FPS > 0)"
            )
    if fps is None:  # no rate given: the '@', if any, belongs to the path
        path, fps = rest, DEFAULT_REPLAY_FPS
    if not path:
        raise CameraError("replay needs a PATH (replay:PATH[@FPS])")
    return path, fps


def open_source_spec(spec: str) -> tuple[FrameSource | None, LineSource | None]:
    """A frame source or a line source from a command-line SPEC.

    Raises CameraError (a one-line usage error) on a SPEC that is malformed or names a source
    that cannot be opened."""
    kind, _, rest = spec.partition(":")
    if kind == "usb":
        return UsbCamera(rest or "/dev/video0"), None
    if kind == "csi":
        if rest:
            raise CameraError(f"unknown source {spec!r}: csi takes no argument ({SOURCE_USAGE})")
        return CsiCamera(), None
    if kind == "replay":
        path, fps = parse_replay_spec(rest)
        return ReplayFrameSource.from_path(path, fps, loop=False), None
    if kind == "serial":
        port, _, protocol = rest.rpartition(":")
        if protocol not in ("gm65-command", "gm65-continuous", "honeywell", "lines"):
            port, protocol = rest, "lines"
        if not port:
            raise CameraError(f"unknown source {spec!r}: serial needs a PORT ({SOURCE_USAGE})")
        return None, SerialQrScanner(ReconnectingPort(port, 9600), protocol)
    raise CameraError(f"unknown source {spec!r} ({SOURCE_USAGE})")
