"""Real camera and serial scanner module: frames arrive fresh; a shown code is read.

GATE_EDGE_HIL_CAMERA=/dev/video0 (USB, V4L2) or GATE_EDGE_HIL_CAMERA=csi (picamera2)
GATE_EDGE_HIL_SCANNER_PORT=/dev/serial/by-id/... GATE_EDGE_HIL_SCANNER_PROTOCOL=gm65-command
GATE_EDGE_HIL_EXPECT_TEXT=... : the text of a code held in front of the device during the test
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from edge.drivers.camera import open_frame_source
from edge.drivers.serial_scanner import open_serial_scanner
from edge.drivers.settings import CameraSettings, SerialScannerSettings
from edge.scan.chain import DecoderChain
from edge.scan.preprocess import to_gray


def _env(name: str, purpose: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.skip(f"{name} is not set: no {purpose} to test (hardware-in-the-loop is opt-in)")
    return value


def test_camera_delivers_fresh_frames() -> None:
    spec = _env("GATE_EDGE_HIL_CAMERA", "camera")
    if spec == "csi":
        settings = CameraSettings(source="csi")
    else:
        if not os.path.exists(spec):
            pytest.skip(f"{spec} does not exist")
        settings = CameraSettings(source="usb", device=spec)
    source = open_frame_source(settings)
    try:
        times: list[float] = []
        for _ in range(30):
            got = source.read(2.0)
            assert got is not None, "the camera delivered no frame within 2 s"
            frame_time, frame = got
            assert frame.dtype == np.uint8 and frame.ndim in (2, 3)
            assert to_gray(frame).ndim == 2
            assert time.monotonic() - frame_time < 0.5, "a stale frame was handed out"
            times.append(frame_time)
        assert times == sorted(set(times)), "frames must be new and in order"
    finally:
        source.close()


def test_camera_reads_the_code_held_up() -> None:
    spec = _env("GATE_EDGE_HIL_CAMERA", "camera")
    expected = _env("GATE_EDGE_HIL_EXPECT_TEXT", "code to hold up")
    settings = (
        CameraSettings(source="csi") if spec == "csi" else CameraSettings(source="usb", device=spec)
    )
    source = open_frame_source(settings)
    chain = DecoderChain(40.0)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = source.read(1.0)
            if got is None:
                continue
            if expected in [code.text for code in chain.decode(to_gray(got[1])).codes]:
                return
        pytest.fail(f"the code was not read within 20 s (expected {expected!r})")
    finally:
        source.close()


def test_serial_scanner_reads_the_code_held_up() -> None:
    port = _env("GATE_EDGE_HIL_SCANNER_PORT", "serial QR scanner")
    expected = _env("GATE_EDGE_HIL_EXPECT_TEXT", "code to hold up")
    protocol = os.environ.get("GATE_EDGE_HIL_SCANNER_PROTOCOL", "gm65-continuous")
    settings = SerialScannerSettings(enabled=True, port=port, protocol=protocol)  # type: ignore[arg-type]
    scanner = open_serial_scanner(settings)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if scanner.read_line(1.0) == expected:
                return
        pytest.fail(f"the scanner did not report {expected!r} within 20 s")
    finally:
        scanner.close()
