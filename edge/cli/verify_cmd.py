"""`gate-edge verify`: check one code offline, or as the gate's configuration says."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from pathlib import Path
from typing import Any

from edge.app.verification import build_verifier, snapshot_from_files
from edge.clock import StoppedClock, SystemClock
from edge.credentials.result import VerificationResult
from edge.credentials.trust.signed_document import MAX_DOCUMENT_BYTES
from edge.errors import GateEdgeError, TrustListError
from edge.readfiles import read_capped

EXIT_VALID, EXIT_INVALID = 0, 1


def register(subparsers: Any) -> None:
    """Add the `verify` command."""
    verify = subparsers.add_parser(
        "verify",
        help="verify a code (offline, or as the gate's config says); prints one JSON line",
    )
    verify.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="use the gate's trust files and [platform] instead of --trust/--root",
    )
    verify.add_argument(
        "--id-card", metavar="NUMBER", help="look up a resident ID number (needs --config)"
    )
    verify.add_argument("--trust", type=Path, metavar="FILE")
    verify.add_argument("--root", type=Path, metavar="ROOT.pub.pem")
    verify.add_argument("--denylist", type=Path, metavar="FILE")
    verify.add_argument(
        "--at", type=_instant, metavar="TIME", help="verification time: epoch or ISO 8601"
    )
    verify.add_argument("--skew", type=int, default=30, metavar="S", help="clock skew (s)")
    verify.add_argument("text", nargs="?", default="-", metavar="TEXT | -")
    verify.set_defaults(func=_verify)


def _read(path: Path, error: type[GateEdgeError]) -> bytes:
    try:
        return read_capped(path, MAX_DOCUMENT_BYTES)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None


def _instant(text: str) -> float:
    """An epoch number, or an ISO 8601 date-time (UTC when no offset is given)."""
    try:
        epoch = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(epoch):
            raise argparse.ArgumentTypeError(f"not a finite time: {text!r}")
        return epoch
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an epoch or ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def _verify(args: argparse.Namespace) -> int:
    if args.config is not None:
        from edge.cli.platform_verify import verify_with_config  # noqa: PLC0415

        result = verify_with_config(args)
        online = {"path": result.path, "platform_cause": result.platform_cause}
        print(json.dumps({**result_json(result), **online}))
        return EXIT_VALID if result.valid else EXIT_INVALID
    if args.id_card is not None:
        raise TrustListError("--id-card needs --config (the platform to ask)")
    if args.trust is None or args.root is None:
        print("gate-edge verify: --trust and --root are required (or --config)", file=sys.stderr)
        raise SystemExit(2)  # a usage error, as argparse reports one
    if args.skew < 0:
        raise TrustListError("--skew must not be negative")
    snapshot = snapshot_from_files(args.trust, args.root, args.denylist)
    text = sys.stdin.read().strip() if args.text == "-" else args.text
    clock = SystemClock() if args.at is None else StoppedClock(args.at)
    result = build_verifier(lambda: snapshot, clock, args.skew).verify(text)
    print(json.dumps(result_json(result)))
    return EXIT_VALID if result.valid else EXIT_INVALID


def result_json(result: VerificationResult) -> dict[str, object]:
    """The verify command's JSON object for one result."""
    return {
        "valid": result.valid,
        "reason": result.reason,
        "colour": result.colour,
        "issuer": result.issuer,
        "code_id": None if result.code_id is None else result.code_id.hex(),
        "expires_at": result.expires_at,
        "format": result.format,
        "certificate_type": result.certificate_type,
        "refusal": result.refusal,
    }
