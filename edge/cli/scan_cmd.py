"""`gate-edge decode IMAGE…` (check snapshots) and `gate-edge scan --source SPEC` (aim a camera)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

import cv2

from edge.clock import SystemClock
from edge.codes.result import VerificationResult
from edge.drivers.camera import CsiCamera, UsbCamera
from edge.drivers.camera_replay import ReplayFrameSource
from edge.drivers.interfaces import FrameSource, LineSource
from edge.drivers.serial_lines import ReconnectingPort
from edge.drivers.serial_scanner import SerialQrScanner
from edge.errors import CameraError
from edge.scan.chain import DecoderChain
from edge.scan.loop import ScanLoop
from edge.scan.preprocess import u8
from edge.scan.result import ScanResult
from edge.scan.settings import ScanSettings


def register(subparsers: Any) -> None:
    """Add the `decode` and `scan` commands."""
    decode = subparsers.add_parser("decode", help="decode QR codes in image files (JSON lines)")
    decode.add_argument("images", nargs="+", metavar="IMAGE")
    decode.add_argument(
        "--budget-ms",
        type=float,
        default=ScanSettings().frame_budget_ms,
        help="decoding budget for a 1280x720 image (scaled by image area)",
    )
    decode.set_defaults(func=_decode)
    scan = subparsers.add_parser("scan", help="show codes live from a camera or serial scanner")
    scan.add_argument(
        "--source",
        required=True,
        metavar="SPEC",
        help="usb:/dev/video0 | csi | replay:PATH[@FPS] | serial:PORT[:protocol]",
    )
    scan.add_argument("--seconds", type=float, default=0.0, help="stop after S seconds (0: never)")
    scan.set_defaults(func=_scan)


def _decode(args: argparse.Namespace) -> int:
    chain = DecoderChain(budget_ms=args.budget_ms)
    status = 0
    for path in args.images:
        started = time.perf_counter()
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if image is None:
            print(json.dumps({"file": path, "codes": [], "ms": 0.0, "error": "unreadable image"}))
            status = 1
            continue
        result = chain.decode(u8(image))
        ms = (time.perf_counter() - started) * 1000.0
        line = {"file": path, "codes": [code.text for code in result.codes], "ms": round(ms, 2)}
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return status


def open_source_spec(spec: str) -> tuple[FrameSource | None, LineSource | None]:
    """A frame source or a line source from a command-line SPEC."""
    kind, _, rest = spec.partition(":")
    if kind == "usb":
        return UsbCamera(rest or "/dev/video0"), None
    if kind == "csi":
        return CsiCamera(), None
    if kind == "replay":
        path, _, fps = rest.partition("@")
        return ReplayFrameSource.from_path(path, float(fps or 15.0), loop=False), None
    if kind == "serial":
        port, _, protocol = rest.rpartition(":")
        if protocol not in ("gm65-command", "gm65-continuous", "honeywell", "lines"):
            port, protocol = rest, "lines"
        return None, SerialQrScanner(ReconnectingPort(port, 9600), protocol)
    raise CameraError(f"unknown source {spec!r} (usb:DEV, csi, replay:PATH, serial:PORT[:proto])")


def _unverified(text: str) -> VerificationResult:
    # aiming aid only: shows what was read; verification is the service's job
    return VerificationResult.invalid("unsupported")


def _scan(args: argparse.Namespace) -> int:
    frames, lines = open_source_spec(args.source)
    done = threading.Event()

    def show(result: ScanResult) -> None:
        print(
            json.dumps(
                {
                    "source": result.source,
                    "text": result.text,
                    "decode_ms": round(result.decode_ms, 2),
                },
                ensure_ascii=False,
            ),
            flush=True,
        )

    def fault(reason: str) -> None:
        print(f"fault: {reason}", file=sys.stderr, flush=True)

    loop = ScanLoop(
        _unverified,
        ScanSettings(),
        SystemClock(),
        frames=frames,
        lines=lines,
        on_result=show,
        on_fault=fault,
    )
    loop.start()
    try:
        done.wait(args.seconds if args.seconds > 0 else None)
    finally:
        loop.stop()
        for source in (frames, lines):
            if source is not None:
                source.close()
        stats = loop.stats()
        print(
            f"frames {stats['frames']:.0f}  fps {stats['fps']:.1f}  decode ms "
            f"p50 {stats['decode_ms_p50']:.1f} p95 {stats['decode_ms_p95']:.1f}",
            file=sys.stderr,
        )
    return 0
