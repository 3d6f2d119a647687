"""`gate-central command sign|send`: a signed control-plane command for one gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from central.command_send import send, signed_command
from central.mqtt_link import add_broker_arguments
from edge.errors import GateEdgeError
from edge.ids import id_problem
from edge.wire.topics import COMMAND_NAMES, GateTopics


def register(subparsers: Any) -> None:
    """Add the `command sign` and `command send` commands."""
    command = subparsers.add_parser("command", help="control-plane command tools")
    command_sub = command.add_subparsers(dest="command_action", metavar="ACTION", required=True)
    sign = command_sub.add_parser("sign", help="print a signed command payload")
    _command_arguments(sign)
    sign.set_defaults(func=_sign)
    send = command_sub.add_parser(
        "send",
        help="sign, publish and wait for the gate's result "
        "(exit 0 executed, 1 refused, 2 no answer in time)",
    )
    _command_arguments(send)
    add_broker_arguments(send)
    send.add_argument("--wait", type=float, default=30.0, metavar="S", help="default 30 s")
    send.set_defaults(func=_send)


def _command_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", required=True, help="Ed25519 private key (PEM, unencrypted)")
    parser.add_argument("--site", required=True)
    parser.add_argument("--gate", required=True)
    parser.add_argument("--command", required=True, choices=COMMAND_NAMES)
    parser.add_argument("--operator", help="operator id (open-once)")
    parser.add_argument("--fault", help="fault to clear (clear-fault), e.g. relay_fault")
    parser.add_argument("--ttl", type=float, default=60.0, help="validity in seconds (default 60)")


def _key(args: argparse.Namespace) -> ed25519.Ed25519PrivateKey:
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
    return key


def _send(args: argparse.Namespace) -> int:
    return send(args, _key(args))


def _sign(args: argparse.Namespace) -> int:
    payload = signed_command(args, _key(args))
    print(f"# topic: {GateTopics(args.site, args.gate).command(args.command)}", file=sys.stderr)
    print(payload.decode())
    return 0
