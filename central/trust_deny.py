"""`gate-central trust deny`: add to and remove from the current denylist, never lowering its
version."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from central.files import read_file
from edge.credentials.common.keys import load_private_key
from edge.credentials.dcc.claims import uci_hash
from edge.credentials.trust.trustlist import (
    DCC_HASH_TYPES,
    Denylist,
    build_denylist,
    parse_denylist,
)
from edge.errors import CodeFormatError, TrustListError

DAY_S = 86_400
_DCC_KINDS = {f"dcc-{kind.lower()}": kind for kind in DCC_HASH_TYPES}
KINDS = ("code-id", "subject", "dcc-ci", *_DCC_KINDS)
_KIND_HELP = (
    "code-id=HEX (16 bytes), subject=HEX (32 bytes), dcc-ci=UVCI (stored as its UCI hash), or an "
    "EU revocation hash dcc-uci|dcc-countrycodeuci|dcc-signature=HEX (16 bytes)"
)


def add_deny_parser(trust_sub: Any) -> None:
    """Add `trust deny` under the `trust` command."""
    deny = trust_sub.add_parser(
        "deny",
        help="sign a denylist: the current one (--current) with entries added and removed",
    )
    deny.add_argument("--root-key", required=True, type=Path, metavar="ROOT.key.pem")
    deny.add_argument(
        "--current",
        type=Path,
        metavar="FILE",
        help="the denylist in force (verified against the root); its entries are kept",
    )
    deny.add_argument("--add", action="append", default=[], metavar="KIND=VALUE", help=_KIND_HELP)
    deny.add_argument("--remove", action="append", default=[], metavar="KIND=VALUE")
    deny.add_argument("--code-id", nargs="+", action="extend", default=[], metavar="HEX")
    deny.add_argument("--subject", nargs="+", action="extend", default=[], metavar="HEX")
    deny.add_argument(
        "--dcc-ci",
        nargs="+",
        action="extend",
        default=[],
        metavar="CI",
        help="EU DCC certificate identifier (UVCI) to revoke; stored as its UCI hash",
    )
    deny.add_argument(
        "--dcc-hash",
        nargs="+",
        action="extend",
        default=[],
        metavar="TYPE:HEX",
        help="an EU revocation list entry: UCI, COUNTRYCODEUCI or SIGNATURE, and its 16-byte hash",
    )
    deny.add_argument("--version", type=int, metavar="N", help="default: the current version + 1")
    deny.add_argument("--valid-days", type=float, default=30.0, metavar="D")
    deny.add_argument("--at", type=int, metavar="EPOCH", help="issue time (default: now)")
    deny.add_argument("--out", required=True, type=Path, metavar="FILE")
    deny.set_defaults(func=_trust_deny)


def parse_entry(spec: str) -> tuple[str, bytes]:
    """KIND=VALUE as (the field: "code_ids", "subjects" or "dcc:<hash type>", the stored bytes)."""
    kind, sep, value = spec.partition("=")
    if not sep or kind not in KINDS or not value:
        raise TrustListError(f"{spec!r}: expected {_KIND_HELP}")
    if kind == "dcc-ci":
        return "dcc:UCI", uci_hash(value)
    if kind in _DCC_KINDS:
        try:
            digest = bytes.fromhex(value)
        except ValueError:
            digest = b""
        if len(digest) != 16:
            raise TrustListError(f"{spec!r}: a {kind} hash is 16 bytes (32 hex digits)")
        return f"dcc:{_DCC_KINDS[kind]}", digest
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise TrustListError(f"{spec!r}: {kind} takes a hex value") from None
    length = 16 if kind == "code-id" else 32
    if len(raw) != length:
        raise TrustListError(f"{spec!r}: a {kind} is {length} bytes ({2 * length} hex digits)")
    return ("code_ids" if kind == "code-id" else "subjects"), raw


def _root_key(path: Path) -> ed25519.Ed25519PrivateKey:
    key = load_private_key(read_file(path, TrustListError))
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise TrustListError(f"{path}: the trust-root key must be Ed25519 (EdDSA)")
    return key


def _trust_deny(args: argparse.Namespace) -> int:
    root = _root_key(args.root_key)
    current: Denylist | None = None
    if args.current is not None:
        try:
            current = parse_denylist(read_file(args.current, TrustListError), root.public_key())
        except TrustListError as exc:
            raise TrustListError(f"--current {args.current}: {exc}") from None
    entries: dict[str, set[bytes]] = {
        "code_ids": set(current.code_ids) if current else set(),
        "subjects": set(current.subjects) if current else set(),
        **{f"dcc:{kind}": set() for kind in DCC_HASH_TYPES},
    }
    for kind, digest in current.dcc_revoked if current else ():
        entries[f"dcc:{kind}"].add(digest)
    adds = [*args.add]
    adds += [f"code-id={v}" for v in args.code_id] + [f"subject={v}" for v in args.subject]
    adds += [f"dcc-ci={v}" for v in args.dcc_ci]
    for entry in args.dcc_hash:
        kind, _, digest = entry.partition(":")
        if kind not in DCC_HASH_TYPES:
            raise TrustListError(
                f"--dcc-hash {entry!r}: TYPE:HEX with TYPE one of {', '.join(DCC_HASH_TYPES)}"
            )
        adds.append(f"dcc-{kind.lower()}={digest}")
    for spec in adds:
        field, value = parse_entry(spec)
        entries[field].add(value)
    for spec in args.remove:
        field, value = parse_entry(spec)
        if value not in entries[field]:
            raise TrustListError(f"--remove {spec}: not on the denylist")
        entries[field].discard(value)
    version = _version(args.version, current)
    issued_at = int(time.time()) if args.at is None else args.at
    if args.valid_days <= 0:
        raise TrustListError("--valid-days must be positive")
    document = build_denylist(
        root,
        sorted(entries["code_ids"]),
        sorted(entries["subjects"]),
        version=version,
        issued_at=issued_at,
        expires_at=issued_at + int(args.valid_days * DAY_S),
        dcc_revocations={kind: sorted(entries[f"dcc:{kind}"]) for kind in DCC_HASH_TYPES},
    )
    try:
        args.out.write_bytes(document)
    except OSError as exc:
        raise CodeFormatError(f"cannot write {args.out}: {exc.strerror}") from None
    print(
        f"{args.out}: denylist version {version}, {len(entries['code_ids'])} code id(s), "
        f"{len(entries['subjects'])} subject(s), "
        f"{sum(len(entries[f'dcc:{kind}']) for kind in DCC_HASH_TYPES)} EU DCC revocation(s)"
    )
    return 0


def _version(requested: int | None, current: Denylist | None) -> int:
    if current is None:
        if requested is None:
            raise TrustListError("give --version, or --current to continue from its version")
        return requested
    if requested is None:
        return current.version + 1
    if requested <= current.version:
        raise TrustListError(
            f"--version {requested} is not above the current version {current.version}: "
            "gates refuse a denylist that does not move forward"
        )
    return requested
