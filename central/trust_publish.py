"""`gate-central trust publish`: verify a trust list or denylist against the root, then publish
it retained for every gate, never behind the version already published."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from central.files import read_file
from central.mqtt_link import ToolLink, add_broker_arguments
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.trustlist import Denylist, parse_signed_list
from edge.errors import TrustListError
from edge.wire.topics import DENYLIST_TOPIC, TRUST_LIST_TOPIC

RETAINED_GRACE_S = 1.0  # how long to wait for the retained document after the subscription


def add_publish_parser(trust_sub: Any) -> None:
    """Add `trust publish` under the `trust` command."""
    publish = trust_sub.add_parser(
        "publish", help="verify a trust list or denylist and publish it retained to the gates"
    )
    add_broker_arguments(publish)
    publish.add_argument("--root", required=True, type=Path, metavar="ROOT.pub.pem")
    publish.add_argument("file", type=Path, metavar="FILE")
    publish.set_defaults(func=_publish)


def judge(data: bytes, root: ed25519.Ed25519PublicKey, now: float) -> tuple[str, str, int]:
    """(kind, topic, version) of a document that verifies and has not expired."""
    document = parse_signed_list(data, root)
    if isinstance(document, Denylist):
        kind, topic = "denylist", DENYLIST_TOPIC
    else:
        kind, topic = "trust list", TRUST_LIST_TOPIC
    version, expires_at = document.version, document.expires_at
    if now > expires_at:
        raise TrustListError(f"the {kind} expired; gates would refuse it")
    return kind, topic, version


def _retained(link: ToolLink, topic: str) -> bytes | None:
    """The document now retained on `topic`, if any."""
    found: list[bytes] = []
    arrived, subscribed = threading.Event(), threading.Event()

    def on_message(*args: Any) -> None:
        message = args[-1]
        if message.retain and message.payload:
            found.append(bytes(message.payload))
        arrived.set()

    link.client.on_message = on_message
    link.client.on_subscribe = lambda *_: subscribed.set()
    link.client.subscribe(topic, qos=1)
    if subscribed.wait(10):
        arrived.wait(RETAINED_GRACE_S)
    link.client.unsubscribe(topic)
    return found[0] if found else None


def _publish(args: argparse.Namespace) -> int:
    root = load_root_public_key(read_file(args.root, TrustListError))
    data = read_file(args.file, TrustListError)
    kind, topic, version = judge(data, root, time.time())
    with ToolLink(args, "trust") as link:
        current = _retained(link, topic)
        if current is not None:
            try:
                _, _, published = judge(current, root, 0.0)
            except TrustListError:
                published = None  # not ours or broken: gates ignore it, replace it
            if published is not None and version < published:
                raise TrustListError(
                    f"{kind} version {version} is older than the published version {published}"
                )
        link.publish(topic, data, retain=True)
    print(f"published {kind} version {version} on {topic} (retained)")
    return 0
