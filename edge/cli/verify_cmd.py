"""`gate-edge verify`: check one code offline, or as the gate's configuration says."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from edge.clock import parse_instant
from edge.core.decision import ScanPresentation, screen
from edge.core.settings import PolicySettings
from edge.credentials.formats import gate_verifiers
from edge.credentials.result import VerificationResult
from edge.credentials.trust.trustlist import TrustList, parse_denylist, parse_trust_list
from edge.errors import GateEdgeError, TrustListError
from edge.storage.trust_store import load_root_public_key

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


def _read(path: Path, error: type[GateEdgeError]) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None


def instant(text: str) -> float:
    """An argparse type: an epoch number, or an ISO 8601 date-time (UTC when no offset)."""
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _verify(args: argparse.Namespace) -> int:
    if args.config is not None:
        from edge.app.config import load_config  # noqa: PLC0415
        from edge.cli.platform_verify import verify_with_config  # noqa: PLC0415

        result = verify_with_config(args)
        policy = load_config(args.config).policy
        document = {**result_json(result, policy), "path": result.path}
        print(json.dumps(document))
        return EXIT_ADMIT if document["admit"] else EXIT_NOT_ADMITTED
    if args.id_card is not None:
        raise TrustListError("--id-card needs --config (the platform to ask)")
    if args.trust is None or args.root is None:
        print("gate-edge verify: --trust and --root are required (or --config)", file=sys.stderr)
        raise SystemExit(2)  # a usage error, as argparse reports one
    if args.skew < 0:
        raise TrustListError("--skew must not be negative")
    root = load_root_public_key(_read(args.root, TrustListError))
    trust: TrustList = parse_trust_list(_read(args.trust, TrustListError), root)
    denylist = None
    if args.denylist is not None:
        denylist = parse_denylist(_read(args.denylist, TrustListError), root)
    text = sys.stdin.read().strip() if args.text == "-" else args.text
    now = time.time() if args.at is None else args.at
    result = gate_verifiers().verify(text, trust, denylist, now, args.skew)
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
