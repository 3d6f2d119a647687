"""`gate-edge decode IMAGE…` (check snapshots) and `gate-edge scan --source SPEC` (aim a camera)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

from edge.app.verification import build_verifier, snapshot_from_files
from edge.clock import SystemClock
from edge.credentials.result import VerificationResult
from edge.drivers.camera_replay import ReplayFrameSource
from edge.drivers.source_spec import open_source_spec
from edge.errors import TrustListError
from edge.reasons import Reason
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
    scan.add_argument(
        "--trust", type=Path, metavar="FILE", help="signed trust list: verify each code read"
    )
    scan.add_argument("--root", type=Path, metavar="ROOT.pub.pem", help="trust-root public key")
    scan.add_argument("--denylist", type=Path, metavar="FILE", help="signed denylist")
    scan.add_argument("--skew", type=int, default=30, metavar="S", help="clock skew (s)")
    scan.set_defaults(func=_scan)


def _decode(args: argparse.Namespace) -> int:
    """One line `{"file", "codes", "ms"}` per image; unreadable images are named on stderr.

    Exit 1 when an image could not be read or when no image held a code."""
    chain = DecoderChain(budget_ms=args.budget_ms)
    status = 0
    found = False
    for path in args.images:
        started = time.perf_counter()
        exists = Path(path).is_file()
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE) if exists else None
        texts: list[str] = []
        if image is None:
            why = "not an image OpenCV can read" if exists else "no such file"
            print(f"gate-edge: cannot read image {path}: {why}", file=sys.stderr, flush=True)
            status = 1
        else:
            texts = [code.text for code in chain.decode(u8(image)).codes]
            found = found or bool(texts)
        ms = (time.perf_counter() - started) * 1000.0
        line = {"file": path, "codes": texts, "ms": round(ms, 2)}
        print(json.dumps(line, ensure_ascii=False), flush=True)
    if not found:
        print("gate-edge: no code found in any image", file=sys.stderr)
        return 1
    return status


Verifier = Callable[[str], VerificationResult]


def load_verifier(
    trust: Path | None, root: Path | None, denylist: Path | None, skew_s: int = 30
) -> Verifier | None:
    """A verifier from signed trust material files, or None when no trust list is given.

    Raises TrustListError on a missing option, an unreadable file or a bad signature."""
    if trust is None:
        if root is not None or denylist is not None:
            raise TrustListError("--root and --denylist need --trust")
        return None
    if root is None:
        raise TrustListError("--trust needs --root (the trust-root public key)")
    if skew_s < 0:
        raise TrustListError("--skew must not be negative")
    snapshot = snapshot_from_files(trust, root, denylist)
    return build_verifier(lambda: snapshot, SystemClock(), skew_s).verify


def _not_verified(text: str) -> VerificationResult:
    # never shown: without trust material the command prints "not verified" instead of a verdict
    return VerificationResult.invalid(Reason.UNSUPPORTED)


def scan_line(result: ScanResult, *, verified: bool) -> dict[str, object]:
    """The JSON object `scan` prints for one code read."""
    line: dict[str, object] = {
        "source": result.source,
        "text": result.text,
        "decode_ms": round(result.decode_ms, 2),
    }
    if not verified:
        line["verification"] = "not verified"
        return line
    outcome = result.verification
    line["verification"] = "valid" if outcome.valid else "invalid"
    line["reason"] = outcome.reason
    line["colour"] = outcome.colour
    line["issuer"] = outcome.issuer
    line["format"] = outcome.format
    return line


def _scan(args: argparse.Namespace) -> int:
    verify = load_verifier(args.trust, args.root, args.denylist, args.skew)
    frames, lines = open_source_spec(args.source)
    if verify is None:
        print(
            "no --trust/--root given: codes are shown NOT VERIFIED (read check only)",
            file=sys.stderr,
            flush=True,
        )
    done = threading.Event()

    def show(result: ScanResult) -> None:
        line = scan_line(result, verified=verify is not None)
        print(json.dumps(line, ensure_ascii=False), flush=True)

    def fault(reason: str) -> None:
        print(f"fault: {reason}", file=sys.stderr, flush=True)

    def recover(source: str) -> None:
        print(f"recovered: {source}", file=sys.stderr, flush=True)

    loop = ScanLoop(
        verify or _not_verified,
        ScanSettings(),
        SystemClock(),
        frames=frames,
        lines=lines,
        on_result=show,
        on_fault=fault,
        on_recover=recover,
    )
    replay = frames if isinstance(frames, ReplayFrameSource) else None
    deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
    loop.start()
    try:
        # until --seconds pass or, for a replay, its last frame has been handed to the loop
        # (stop() then lets the loop finish decoding and reporting that frame)
        while replay is None or not replay.finished:
            remaining = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if remaining <= 0:
                break
            done.wait(remaining)
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
