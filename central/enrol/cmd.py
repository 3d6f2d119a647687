"""`gate-central enrol init|token|revoke|list|broker-cert|publish`: the enrolment register."""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from central.enrol.authority import ACL, Authority, Settings
from central.enrol.ca import CRL, write_private
from central.errors import CentralError
from edge.ids import device_id_problem
from edge.wire.broker_url import parse_broker_url


def register(commands: Any) -> None:
    """Add the `enrol` command and its actions."""
    enrol = commands.add_parser("enrol", help="first-boot enrolment: tokens, device CA, CRL, ACL")
    actions = enrol.add_subparsers(dest="action", metavar="ACTION", required=True)

    init = actions.add_parser("init", help="create the enrolment directory and its device CA")
    _dir(init)
    init.add_argument("--broker", required=True, help="broker URL the gates use (mqtts://...)")
    init.add_argument("--trust-root", required=True, type=Path, help="trust root public key")
    init.add_argument("--command-key", type=Path, help="command-signing public key")
    init.add_argument("--cert-days", type=int, default=1825, help="gate certificate lifetime")
    init.add_argument("--crl-days", type=int, default=30, help="CRL lifetime (re-publish sooner)")
    init.set_defaults(func=_init)

    token = actions.add_parser("token", help="a one-use enrolment token for one gate")
    _dir(token)
    token.add_argument("--site", required=True)
    token.add_argument("--gate", required=True)
    token.add_argument("--ttl-h", type=float, default=72.0, help="hours the token stays valid")
    token.set_defaults(func=_token)

    revoke = actions.add_parser("revoke", help="revoke a gate's certificates (CRL and ACL)")
    _dir(revoke)
    revoke.add_argument("device", metavar="SITE.GATE")
    revoke.set_defaults(func=_revoke)

    listing = actions.add_parser("list", help="every certificate issued, revoked or not")
    _dir(listing)
    listing.set_defaults(func=_list)

    broker = actions.add_parser("broker-cert", help="key and certificate for the broker")
    _dir(broker)
    broker.add_argument("--name", action="append", required=True, help="host name or IP")
    broker.add_argument("--out", required=True, type=Path, help="writes OUT.key and OUT.crt")
    broker.set_defaults(func=_broker_cert)

    publish = actions.add_parser("publish", help="re-write crl.pem and the ACL (run daily)")
    _dir(publish)
    publish.set_defaults(func=_publish)


def _dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", required=True, type=Path, help="the enrolment directory")


def _open(args: argparse.Namespace) -> Authority:
    return Authority(args.dir, time.time)


def _init(args: argparse.Namespace) -> int:
    parse_broker_url(args.broker)
    if args.cert_days < 1 or args.crl_days < 1:
        raise CentralError("--cert-days and --crl-days must be at least 1")
    settings = Settings(args.broker, args.cert_days, args.crl_days)
    Authority.init(args.dir, settings, args.trust_root, args.command_key, time.time).close()
    print(f"enrolment directory {args.dir}: device CA {args.dir / 'ca.pem'}")
    print(
        f"broker: cafile {args.dir / 'ca.pem'}, crlfile {args.dir / CRL}, acl_file {args.dir / ACL}"
    )
    return 0


def _token(args: argparse.Namespace) -> int:
    authority = _open(args)
    try:
        token = authority.issue_token(args.site, args.gate, args.ttl_h * 3600)
    finally:
        authority.close()
    print(token)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    problem = device_id_problem(args.device)
    if problem is not None:
        raise CentralError(f"{args.device!r}: {problem}")
    authority = _open(args)
    try:
        count = authority.revoke(args.device)
    finally:
        authority.close()
    print(f"{args.device}: {count} certificate(s) revoked; reload the broker to apply the CRL")
    return 0 if count else 1


def _list(args: argparse.Namespace) -> int:
    authority = _open(args)
    try:
        gates = authority.store.gates()
    finally:
        authority.close()
    for gate in gates:
        when = datetime.datetime.fromtimestamp(gate.enrolled_at, datetime.UTC)
        state = "revoked" if gate.revoked_at is not None else "valid"
        print(f"{gate.device_id}\tserial {gate.serial:x}\tenrolled {when:%Y-%m-%d %H:%M}Z\t{state}")
    return 0


def _broker_cert(args: argparse.Namespace) -> int:
    authority = _open(args)
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = authority.ca.sign_server(key.public_key(), args.name, time.time(), 825)
    finally:
        authority.close()
    write_private(
        args.out.with_suffix(".key"),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    args.out.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    print(f"broker certificate for {', '.join(args.name)}: {args.out.with_suffix('.crt')}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    authority = _open(args)
    try:
        authority.publish()
    finally:
        authority.close()
    print(f"wrote {args.dir / CRL} and {args.dir / ACL}")
    return 0
