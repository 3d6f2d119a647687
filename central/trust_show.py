"""`gate-central trust show`: what a signed trust list or denylist says, once it checks."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from central.files import read_file
from edge.clock import parse_instant
from edge.credentials.common.keys import ALG_IDS
from edge.credentials.trust.dsc import ALG_ES256, ALG_ES384, ALG_ES512
from edge.credentials.trust.health import iso_utc
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.trustlist import Denylist, parse_signed_list
from edge.errors import TrustListError

_ALG_NAMES = {number: name for name, number in ALG_IDS.items()}

_DSC_ALG_NAMES = {ALG_ES256: "ES256", ALG_ES384: "ES384", ALG_ES512: "ES512"}


def add_show_parser(trust_sub: Any) -> None:
    """Add `trust show` under the `trust` command."""
    show = trust_sub.add_parser("show", help="check and print a trust list or denylist")
    show.add_argument("--root", required=True, type=Path, metavar="ROOT.pub.pem")
    show.add_argument(
        "--at",
        type=_instant,
        metavar="TIME",
        help="judge expiry at this epoch or ISO 8601 time (default: now)",
    )
    show.add_argument("file", type=Path, metavar="FILE")
    show.set_defaults(func=_show)


def _instant(text: str) -> float:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _times(issued_at: int, expires_at: float, now: float) -> dict[str, Any]:
    """Epochs with their ISO 8601 UTC form beside them, and the days left at `now`."""
    return {
        "issued_at": issued_at,
        "issued_at_iso": iso_utc(issued_at),
        "expires_at": expires_at,
        "expires_at_iso": iso_utc(expires_at),
        "days_left": round((expires_at - now) / 86400.0, 1),
        "expired": now > expires_at,
    }


def _show(args: argparse.Namespace) -> int:
    root = load_root_public_key(read_file(args.root, TrustListError))
    data = read_file(args.file, TrustListError)
    now = time.time() if args.at is None else args.at
    summary: dict[str, Any]
    document = parse_signed_list(data, root)
    if isinstance(document, Denylist):
        summary = {
            "kind": "denylist",
            "version": document.version,
            **_times(document.issued_at, document.expires_at, now),
            "code_ids": len(document.code_ids),
            "subjects": len(document.subjects),
        }
    else:
        trust = document
        issuers: dict[str, list[dict[str, Any]]] = {name: [] for name in sorted(trust.issuers)}
        for key in sorted(trust.keys.values(), key=lambda k: (k.issuer, k.not_before)):
            issuers[key.issuer].append(
                {
                    "kid": key.kid.hex(),
                    "alg": _ALG_NAMES.get(key.alg, str(key.alg)),
                    "not_before": key.not_before,
                    "not_before_iso": iso_utc(key.not_before),
                    "not_after": key.not_after,
                    "not_after_iso": iso_utc(key.not_after),
                    "usable_now": key.valid_at(now, 0),
                }
            )
        summary = {
            "kind": "trust_list",
            "version": trust.version,
            **_times(trust.issued_at, trust.expires_at, now),
            "issuers": issuers,
        }
        if trust.signers:
            summary["dscs"] = [
                {
                    "kid": signer.kid.hex(),
                    "country": signer.country,
                    "alg": _DSC_ALG_NAMES.get(signer.alg, "PS256"),
                    "types": sorted(signer.allowed_types),
                    "not_before": signer.not_before,
                    "not_after": signer.not_after,
                }
                for signers in trust.signers.values()
                for signer in signers
            ]
    print(json.dumps(summary, indent=2))
    return 1 if summary["expired"] else 0
