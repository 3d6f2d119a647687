"""`gate-central command sign`: a signed control-plane command for one gate."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from central.commands import sign_command
from central.listing import add_command
from edge.errors import GateEdgeError
from edge.ids import id_problem
from edge.wire.topics import COMMAND_NAMES, GateTopics


def register(subparsers: Any, *, listed: bool = True) -> None:
    """Add the `command sign` command; unlisted it works but stays out of --help."""
    command = add_command(subparsers, "command", "control-plane command tools", listed)
    command_sub = command.add_subparsers(dest="command_action", metavar="ACTION", required=True)
    sign = command_sub.add_parser("sign", help="print a signed command payload")
    sign.add_argument("--key", required=True, help="Ed25519 private key (PEM, unencrypted)")
    sign.add_argument("--site", required=True)
    sign.add_argument("--gate", required=True)
    sign.add_argument("--command", required=True, choices=COMMAND_NAMES)
    sign.add_argument("--operator", help="operator id (open-once)")
    sign.add_argument("--fault", help="fault to clear (clear-fault), e.g. relay_fault")
    sign.add_argument("--ttl", type=float, default=60.0, help="validity in seconds (default 60)")
    sign.set_defaults(func=_sign)


def _sign(args: argparse.Namespace) -> int:
    try:
        key = serialization.load_pem_private_key(Path(args.key).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise GateEdgeError(f"{args.key}: cannot load the signing key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise GateEdgeError(f"{args.key}: not an Ed25519 private key")
    for option, value in (("--site", args.site), ("--gate", args.gate)):
        problem = id_problem(value)
        if problem is not None:
            raise GateEdgeError(f"{option} {value!r}: {problem}")
    payload = sign_command(
        key,
        name=args.command,
        site=args.site,
        gate=args.gate,
        now=time.time(),
        ttl_s=args.ttl,
        operator=args.operator,
        fault=args.fault,
    )
    print(f"# topic: {GateTopics(args.site, args.gate).command(args.command)}", file=sys.stderr)
    print(payload.decode())
    return 0
