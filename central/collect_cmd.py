"""`gate-central collect` and `gate-central events count|gaps`: the collector and its store."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from central.collect.collector import (
    DEFAULT_GROUP,
    Collector,
    CollectorSettings,
    default_client_id,
)
from central.collect.store import open_store
from central.errors import CentralError

DB_HELP = "sqlite:///PATH (default kind) or postgresql://USER@HOST:PORT/DB"


def register(subparsers: Any) -> None:
    """Add `collect` and `events`."""
    collect = subparsers.add_parser("collect", help="store every gate's messages")
    collect.add_argument("--broker", required=True, metavar="URL", help="mqtt:// or mqtts://")
    collect.add_argument("--db", required=True, metavar="URL", help=DB_HELP)
    collect.add_argument(
        "--client-id",
        default=default_client_id(),
        help="stable per collector: its session survives a restart (default: from the host)",
    )
    collect.add_argument("--group", default=DEFAULT_GROUP, help="shared-subscription group")
    collect.add_argument("--ca-file", default="")
    collect.add_argument("--cert-file", default="")
    collect.add_argument("--key-file", default="")
    collect.add_argument("--username", default="")
    collect.add_argument("--password-file", type=Path, metavar="FILE")
    collect.add_argument("--batch-max", type=int, default=1000, metavar="N")
    collect.add_argument(
        "--retire",
        action="store_true",
        help="leave the group for good: store what this collector's session holds, then end it",
    )
    collect.set_defaults(func=_collect)

    events = subparsers.add_parser("events", help="what the store holds")
    events_sub = events.add_subparsers(dest="events_action", metavar="ACTION", required=True)
    count = events_sub.add_parser("count", help='print {"events": N, "test_events": M}')
    count.add_argument("--db", required=True, metavar="URL", help=DB_HELP)
    count.set_defaults(func=_count)
    gaps = events_sub.add_parser("gaps", help="events gates numbered that were never stored")
    gaps.add_argument("--db", required=True, metavar="URL", help=DB_HELP)
    gaps.set_defaults(func=_gaps)


def _password(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CentralError(f"cannot read {path}: {exc.strerror}") from None


def _collect(args: argparse.Namespace) -> int:
    if args.batch_max < 1:
        raise CentralError("--batch-max must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = CollectorSettings(
        broker=args.broker,
        client_id=args.client_id,
        group=args.group,
        ca_file=args.ca_file,
        cert_file=args.cert_file,
        key_file=args.key_file,
        username=args.username,
        password=_password(args.password_file),
        batch_max=args.batch_max,
        retire=args.retire,
    )
    store = open_store(args.db)
    announced = threading.Event()

    def subscribed() -> None:
        if not announced.is_set():
            announced.set()
            print(f"collecting as {settings.client_id} into the {store.kind} store", flush=True)

    done = threading.Event()
    collector = Collector(settings, store, on_subscribed=subscribed, on_failure=done.set)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    collector.start()
    try:
        if args.retire:
            # Done once nothing arrived for a while after the session's backlog.
            while not done.wait(0.5) and not (announced.is_set() and collector.idle_s() > 3.0):
                pass
        else:
            done.wait()
    finally:
        collector.stop()
        store.close()
    stats = collector.stats
    print(f"stored {stats.stored}, refused {stats.refused}", flush=True)
    if collector.failure is not None:
        raise CentralError(f"the collector stopped: {collector.failure}")
    return 0


def _count(args: argparse.Namespace) -> int:
    store = open_store(args.db, migrate=False)
    try:
        print(json.dumps(store.count()))
    finally:
        store.close()
    return 0


def _gaps(args: argparse.Namespace) -> int:
    store = open_store(args.db, migrate=False)
    try:
        for gap in store.gaps():
            print(json.dumps({"site": gap.site, "gate": gap.gate, "first": gap.first,
                              "last": gap.last, "missing": gap.last - gap.first + 1}))  # fmt: skip
    finally:
        store.close()
    return 0
