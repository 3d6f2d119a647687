"""`gate-central keys|trust|issue`: signing keys, signed trust lists and denylists, test codes."""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from central.files import read_file
from central.gateway import import_gateway_trust_list
from central.issue import issue_code
from central.keys import generate_private_key, private_key_pem, public_key_pem
from central.trust_deny import add_deny_parser
from central.trust_publish import add_publish_parser
from central.trust_show import add_show_parser
from edge.credentials.common.keys import compute_kid, load_private_key, load_public_key
from edge.credentials.trust.dsc import certificate_ders, parse_dsc
from edge.credentials.trust.trustlist import (
    IssuerKey,
    SignerEntry,
    build_trust_list,
)
from edge.errors import CodeFormatError, TrustListError

EXIT_VALID, EXIT_INVALID = 0, 1
DAY_S = 86_400


def register(subparsers: Any) -> None:
    """Add the `keys`, `trust` and `issue` commands."""
    keys = subparsers.add_parser("keys", help="manage signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    generate = keys_sub.add_parser("generate", help="generate a key pair (PKCS#8 + SPKI PEM)")
    generate.add_argument("--alg", choices=("ES256", "EdDSA"), required=True)
    generate.add_argument("--out", required=True, metavar="PREFIX")
    generate.add_argument("--force", action="store_true", help="overwrite existing files")
    generate.set_defaults(func=_keys_generate)

    trust = subparsers.add_parser("trust", help="build signed trust lists and denylists")
    trust_sub = trust.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    build = trust_sub.add_parser(
        "build", help="sign a trust list of issuers and their keys, and DCC signer certificates"
    )
    build.add_argument("--root-key", required=True, type=Path, metavar="ROOT.key.pem")
    build.add_argument(
        "--issuer",
        action="append",
        default=[],
        metavar="ID=PUB.pem",
        help="issuer key; repeat, with the same ID for several keys of one issuer",
    )
    build.add_argument(
        "--dsc",
        action="append",
        default=[],
        metavar="[CC=]CERT",
        help="DCC document signer certificate(s): DER, PEM (bundles too) or base64; country "
        "from the subject's C unless CC= is given",
    )
    build.add_argument(
        "--gateway",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="EU gateway trust-list JSON: every DSC entry, thumbprint and kid checked",
    )
    _list_arguments(build)
    build.add_argument(
        "--key-not-before", type=int, metavar="EPOCH", help="default: list issue time minus 1 day"
    )
    build.add_argument("--key-not-after", type=int, metavar="EPOCH", help="default: list expiry")
    build.set_defaults(func=_trust_build)
    add_deny_parser(trust_sub)
    add_publish_parser(trust_sub)
    add_show_parser(trust_sub)

    issue = subparsers.add_parser("issue", help="mint a health code and print its QR text")
    issue.add_argument("--issuer", required=True, metavar="ID")
    issue.add_argument("--key", required=True, type=Path, metavar="KEY.pem")
    issue.add_argument("--colour", required=True, choices=("green", "yellow", "red"))
    issue.add_argument("--ttl", type=int, default=300, metavar="S")
    issue.add_argument("--document", metavar="NUMBER")
    issue.add_argument("--name", metavar="MASKED", help="masked holder name (display only)")
    issue.add_argument("--png", type=Path, metavar="FILE", help="also write the QR image")
    issue.add_argument("--at", type=float, metavar="EPOCH", help="issue time (default: now)")
    issue.set_defaults(func=_issue)


def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", required=True, type=int, metavar="N")
    parser.add_argument("--valid-days", type=float, default=30.0, metavar="D")
    parser.add_argument("--at", type=int, metavar="EPOCH", help="issue time (default: now)")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE")


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise CodeFormatError(f"cannot write {path}: {exc.strerror}") from None


def _keys_generate(args: argparse.Namespace) -> int:
    key_path, pub_path = Path(f"{args.out}.key.pem"), Path(f"{args.out}.pub.pem")
    for path in (key_path, pub_path):
        if path.exists() and not args.force:
            raise CodeFormatError(f"{path} exists; use --force to replace it")
    key = generate_private_key(args.alg)
    _write(key_path, private_key_pem(key), 0o600)
    _write(pub_path, public_key_pem(key.public_key()))
    print(f"{key_path} {pub_path} kid={compute_kid(key.public_key()).hex()}")
    return EXIT_VALID


def _root_key(path: Path) -> ed25519.Ed25519PrivateKey:
    key = load_private_key(read_file(path, TrustListError))
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise TrustListError(f"{path}: the trust-root key must be Ed25519 (EdDSA)")
    return key


def _validity(args: argparse.Namespace) -> tuple[int, int]:
    issued_at = int(time.time()) if args.at is None else args.at
    if args.valid_days <= 0:
        raise TrustListError("--valid-days must be positive")
    return issued_at, issued_at + int(args.valid_days * DAY_S)


def _trust_build(args: argparse.Namespace) -> int:
    root = _root_key(args.root_key)
    issued_at, expires_at = _validity(args)
    # Keys are judged at a code's iat, so a key must already be valid for codes signed shortly
    # before the list was built (outstanding codes, issuer clock error, a rebuilt list): a day.
    default_not_before = max(0, issued_at - DAY_S)
    not_before = default_not_before if args.key_not_before is None else args.key_not_before
    not_after = expires_at if args.key_not_after is None else args.key_not_after
    signers = _signers(args.dsc, args.gateway)
    if not args.issuer and not signers:
        raise TrustListError("give at least one --issuer, --dsc or --gateway")
    issuers: dict[str, list[IssuerKey]] = {}
    for spec in args.issuer:
        issuer, sep, pub_path = spec.partition("=")
        if not sep or not issuer or not pub_path:
            raise TrustListError(f"--issuer {spec!r}: expected ID=PUB.pem")
        public_key = load_public_key(read_file(Path(pub_path), CodeFormatError))
        issuers.setdefault(issuer, []).append(IssuerKey(public_key, not_before, not_after))
    document = build_trust_list(
        root,
        issuers,
        version=args.version,
        issued_at=issued_at,
        expires_at=expires_at,
        signers=signers,
    )
    _write(args.out, document)
    keys = sum(len(k) for k in issuers.values())
    dscs = f", {len(signers)} DSC(s)" if signers else ""
    print(
        f"{args.out}: trust list version {args.version}, {len(issuers)} issuer(s), "
        f"{keys} key(s){dscs}"
    )
    return EXIT_VALID


def _signers(specs: list[str], gateways: list[Path]) -> list[SignerEntry]:
    signers: list[SignerEntry] = []
    for spec in specs:
        country, path = "", spec
        if re.fullmatch(r"[A-Z]{2}=.+", spec):
            country, path = spec[:2], spec[3:]
        for der in certificate_ders(read_file(Path(path), TrustListError)):
            try:
                signer = parse_dsc(der, country or None)
            except TrustListError as exc:
                raise TrustListError(f"--dsc {path}: {exc}") from None
            signers.append(SignerEntry(der, signer.country))
    for gateway in gateways:
        signers += import_gateway_trust_list(read_file(gateway, TrustListError))
    unique = {entry.der: entry for entry in signers}
    return list(unique.values())


def _issue(args: argparse.Namespace) -> int:
    text = issue_code(
        args.issuer,
        read_file(args.key, CodeFormatError),
        args.colour,
        time.time() if args.at is None else args.at,
        ttl_s=args.ttl,
        document=args.document,
        masked_name=args.name,
    )
    if args.png is not None:
        import segno  # noqa: PLC0415  (only needed for images)

        try:
            segno.make(text, error="q", micro=False).save(str(args.png), scale=4, border=4)
        except OSError as exc:
            raise CodeFormatError(f"cannot write {args.png}: {exc.strerror}") from None
    print(text)
    return EXIT_VALID
