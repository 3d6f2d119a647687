"""`gate-edge verify`: check one code offline, or as the gate's configuration says."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edge.app.verification import build_verifier, snapshot_from_files
from edge.clock import StoppedClock, SystemClock, parse_instant
from edge.core.decision import ScanPresentation, screen
from edge.core.settings import PolicySettings
from edge.credentials.result import VerificationResult
from edge.errors import TrustListError

# 0: the gate would admit the holder (temperature, person-code match and anti-passback aside);
# 1: it would not (invalid code, or valid but not admissible: see deny_reason); 2: an error.
EXIT_ADMIT, EXIT_NOT_ADMITTED = 0, 1


class _NoPasses:
    """Anti-passback aside: no earlier pass is known to `verify`."""

    def last_pass(self, code_id: bytes | None, subject_binding: bytes | None) -> float | None:
        return None


def register(subparsers: Any) -> None:
    """Add the `verify` command."""
    verify = subparsers.add_parser(
        "verify",
        help="verify a code (offline, or as the gate's config says); prints one JSON line",
        epilog="exit status: 0 the gate would admit this credential (temperature, person-code "
        'match and anti-passback aside); 1 it would not ("admit": false, the cause in '
        '"deny_reason"); 2 an error (unreadable or unverifiable trust files, bad arguments)',
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
        "--at", type=instant, metavar="TIME", help="verification time: epoch or ISO 8601"
    )
    verify.add_argument("--skew", type=int, default=30, metavar="S", help="clock skew (s)")
    verify.add_argument("text", nargs="?", default="-", metavar="TEXT | -")
    verify.set_defaults(func=_verify)


def instant(text: str) -> float:
    """An argparse type: an epoch number, or an ISO 8601 date-time (UTC when no offset)."""
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _verify(args: argparse.Namespace) -> int:
    if args.config is not None:
        # Only `verify --config` loads the gate's configuration and its platform client.
        from edge.app.config import load_config  # noqa: PLC0415
        from edge.cli.platform_verify import verify_with_config  # noqa: PLC0415

        result = verify_with_config(args)
        policy = load_config(args.config).policy
        online = {"path": result.path, "platform_cause": result.platform_cause}
        document = {**result_json(result, policy), **online}
        print(json.dumps(document))
        return EXIT_ADMIT if document["admit"] else EXIT_NOT_ADMITTED
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
    document = result_json(result, PolicySettings())
    print(json.dumps(document))
    return EXIT_ADMIT if document["admit"] else EXIT_NOT_ADMITTED


def admission(result: VerificationResult, policy: PolicySettings) -> tuple[bool, str | None]:
    """Whether the gate's rules admit this credential, and the deny reason when they do not
    (the same screen the gate applies before it asks for a document or a temperature)."""
    presentation = ScanPresentation(result, "camera")
    reasons = screen(presentation, (), policy, _NoPasses(), 0.0)
    return (not reasons, reasons[0] if reasons else None)


def result_json(result: VerificationResult, policy: PolicySettings) -> dict[str, object]:
    """The verify command's JSON object for one result."""
    admit, deny_reason = admission(result, policy)
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
        "admit": admit,
        "deny_reason": deny_reason,
    }
