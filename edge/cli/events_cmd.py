"""`gate-edge events test|flush|pending` and `gate-edge certs csr`: outbox and broker tools."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.app.config import load_config
from edge.clock import SystemClock
from edge.errors import GateEdgeError
from edge.events import GateEvent
from edge.ids import device_id, device_id_problem
from edge.mqtt.diagnose import probe_broker, tool_client_id
from edge.mqtt.publisher import OutboxPublisher
from edge.mqtt.settings import MqttSettings
from edge.storage.outbox import Outbox
from edge.storage.settings import StorageSettings
from edge.wire.broker_url import parse_broker_url

OUTBOX_FILE = "outbox.db"
DEFAULT_SITE = DEFAULT_GATE = "test"
_BATCH = 500
WAIT_SLICE_S = 0.2
PROGRESS_EVERY_S = 2.0
# Causes that waiting does not cure: the tool stops at once and names them.
FATAL_CAUSES = frozenset(
    {
        "dns",
        "refused",
        "tls_not_offered",
        "tls_files",
        "tls_verify",
        "certificate_rejected",
        "not_authorised",
        "taken_over",
    }
)


def default_state_dir() -> Path:
    """Without a config: $XDG_STATE_HOME/gate-edge if XDG_STATE_HOME is set, else ./var."""
    xdg = os.environ.get("XDG_STATE_HOME")
    return Path(xdg) / "gate-edge" if xdg else Path("var")


def register(subparsers: Any) -> None:
    """Add the `events` and `certs` command groups."""
    events = subparsers.add_parser("events", help="test, flush or inspect the event outbox")
    sub = events.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    test = sub.add_parser("test", help="store N test events, deliver them, wait for the PUBACKs")
    test.add_argument("--count", type=int, required=True, help="number of test events")
    flush = sub.add_parser("flush", help="deliver what is pending and exit")
    pending = sub.add_parser("pending", help="show how many events await delivery")
    discard = sub.add_parser("discard", help="delete undelivered events from the outbox")
    discard.add_argument(
        "--test", action="store_true", required=True, help="the test events (the only kind)"
    )
    discard.set_defaults(func=_discard)
    for parser in (test, flush, pending, discard):
        parser.add_argument("--config", help="gate-edge TOML (default: built-in defaults)")
        parser.add_argument("--broker", help="mqtt://host:port or mqtts://host:port")
        parser.add_argument("--state-dir", help="directory holding outbox.db")
    for parser in (test, flush):
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    test.set_defaults(func=_test)
    flush.set_defaults(func=_flush)
    pending.add_argument("--json", action="store_true", help="one JSON document for scripts")
    pending.set_defaults(func=_pending)

    certs = subparsers.add_parser("certs", help="device certificate tools")
    certs_sub = certs.add_subparsers(dest="certs_command", metavar="ACTION", required=True)
    csr = certs_sub.add_parser("csr", help="create the device key (never leaves) and a CSR")
    csr.add_argument(
        "--out",
        help="writes PREFIX.key (0600) and PREFIX.csr (default with --config: mqtt.key_file "
        "without .key, else STATE_DIR/device)",
    )
    csr.add_argument(
        "--cn", help='device id, e.g. "<site>.<gate>" (default with --config: gate.site.gate.gate)'
    )
    csr.add_argument("--config", help="take the defaults for --out and --cn from this gate config")
    csr.add_argument("--force", action="store_true", help="replace an existing key")
    csr.set_defaults(func=_csr)


@dataclasses.dataclass(frozen=True)
class _Target:
    site: str
    gate: str
    mqtt: MqttSettings
    storage: StorageSettings


def _target(args: argparse.Namespace) -> _Target:
    if args.config:
        config = load_config(args.config)
        target = _Target(config.gate.site, config.gate.gate, config.mqtt, config.storage)
    else:
        storage = StorageSettings(state_dir=str(default_state_dir()))
        target = _Target(DEFAULT_SITE, DEFAULT_GATE, MqttSettings(), storage)
    if args.broker:
        parse_broker_url(args.broker)
        target = dataclasses.replace(
            target, mqtt=dataclasses.replace(target.mqtt, broker=args.broker)
        )
    if args.state_dir:
        storage = dataclasses.replace(target.storage, state_dir=args.state_dir)
        target = dataclasses.replace(target, storage=storage)
    return target


def _open_outbox(target: _Target) -> Outbox:
    return Outbox(
        Path(target.storage.state_dir) / OUTBOX_FILE,
        site=target.site,
        gate=target.gate,
        max_events=target.storage.outbox_max_events,
        max_age_s=target.storage.outbox_max_age_days * 86400.0,
        clock=SystemClock(),
    )


def _deliver(target: _Target, outbox: Outbox, timeout_s: float, config_hint: str = "") -> int:
    # Only the outbox delivery: own client id and a throw-away session, no status or Last Will,
    # no commands; the service may be running with the same config and keeps its session.
    publisher = OutboxPublisher(
        target.mqtt,
        site=target.site,
        gate=target.gate,
        outbox=outbox,
        clock=SystemClock(),
    )
    publisher.start()
    started = time.monotonic()
    try:
        drained, cause = _wait(publisher, outbox, target, started + timeout_s)
    finally:
        publisher.stop()
    waited = time.monotonic() - started
    left = outbox.depth()
    if drained and left == 0:
        print(f"all events acknowledged by {target.mqtt.broker}")
        return 0
    print(f"pending: {left} event(s) not acknowledged after {waited:.1f} s", file=sys.stderr)
    print(f"broker: {cause or _why_undelivered(target, publisher)}", file=sys.stderr)
    if left:
        print(
            "the service delivers them when the broker is reachable (test events marked as "
            f"tests); to drop the test events instead: gate-edge events discard --test"
            f"{config_hint}",
            file=sys.stderr,
        )
    return 1


def _wait(
    publisher: OutboxPublisher, outbox: Outbox, target: _Target, deadline: float
) -> tuple[bool, str | None]:
    """Wait until every event is acknowledged, the deadline passes, or the broker refuses in a
    way waiting does not cure (then its cause); progress goes to stderr meanwhile."""
    started = time.monotonic()
    next_progress = started + PROGRESS_EVERY_S
    while True:
        if publisher.wait_drained(max(0.0, min(WAIT_SLICE_S, deadline - time.monotonic()))):
            return True, None
        if publisher.refused:
            return False, _why_undelivered(target, publisher)
        known = publisher.trouble.last
        if known is not None and not known.ok and known.cause in FATAL_CAUSES:
            return False, known.describe()
        now = time.monotonic()
        if now >= deadline:
            return False, None
        if now >= next_progress:
            next_progress += PROGRESS_EVERY_S
            state = "connected" if publisher.connected else "connecting"
            print(
                f"waiting for {target.mqtt.broker} ({state}): {outbox.depth()} event(s) "
                f"pending, {now - started:.0f} s of {deadline - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )


def _why_undelivered(target: _Target, publisher: OutboxPublisher) -> str:
    """The named cause: refused publishes, or why the connection could not be made."""
    if publisher.refused:
        return (
            f"not_authorised: the broker refused {publisher.refused} event(s) on "
            f"{publisher.topics.events}; fix: the broker's ACL must let this gate write there"
        )
    known = publisher.trouble.last
    if known is not None and not known.ok:
        return known.describe()
    client_id = tool_client_id(target.mqtt, target.site, target.gate, "diagnose")
    return probe_broker(target.mqtt, client_id).describe()


def _test(args: argparse.Namespace) -> int:
    if args.count < 0:
        raise GateEdgeError("--count must be 0 or more")
    target = _target(args)
    outbox = _open_outbox(target)
    try:
        done = 0
        while done < args.count:
            size = min(_BATCH, args.count - done)
            outbox.emit_many(
                GateEvent(kind="test", detail=f"test event {done + i + 1}/{args.count}", test=True)
                for i in range(size)
            )
            done += size
        print(f"stored {args.count} test event(s); outbox depth {outbox.depth()}")
        return _deliver(target, outbox, args.timeout, _config_hint(args))
    finally:
        outbox.close()


def _flush(args: argparse.Namespace) -> int:
    target = _target(args)
    outbox = _open_outbox(target)
    try:
        return _deliver(target, outbox, args.timeout, _config_hint(args))
    finally:
        outbox.close()


def _config_hint(args: argparse.Namespace) -> str:
    """The options that name the same outbox, for a command suggested to the technician."""
    if args.state_dir:
        return f" --state-dir {args.state_dir}"
    return f" --config {args.config}" if args.config else ""


def _discard(args: argparse.Namespace) -> int:
    target = _target(args)
    path = Path(target.storage.state_dir) / OUTBOX_FILE
    if not path.is_file():
        raise GateEdgeError(f"no outbox at {path}: wrong --config/--state-dir")
    outbox = _open_outbox(target)
    try:
        removed = outbox.discard_tests()
        left = outbox.depth()
    finally:
        outbox.close()
    print(f"discarded {removed} undelivered test event(s); {left} other event(s) still pending")
    return 0


def _pending(args: argparse.Namespace) -> int:
    """Read-only: a missing outbox is an error, never created here."""
    target = _target(args)
    path = Path(target.storage.state_dir) / OUTBOX_FILE
    if not path.is_file():
        raise GateEdgeError(
            f"no outbox at {path}: wrong --config/--state-dir, or the service never ran here"
        )
    outbox = _open_outbox(target)
    try:
        oldest = outbox.oldest_age_s()
        report = {
            "outbox": str(path),
            "pending": outbox.depth(),
            "oldest_age_s": None if oldest is None else round(oldest, 1),
            "dropped": outbox.dropped(),
            "last_seq": outbox.last_seq(),
        }
    finally:
        outbox.close()
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"pending: {report['pending']}")
    print(f"oldest age s: {'-' if oldest is None else f'{oldest:.1f}'}")
    print(f"dropped: {report['dropped']}")
    print(f"last seq: {report['last_seq']}")
    return 0


def _csr_defaults(args: argparse.Namespace) -> tuple[str, str]:
    """(--out prefix, --cn), filled in from --config where not given."""
    out, cn = args.out, args.cn
    if args.config:
        config = load_config(args.config)
        cn = cn or device_id(config.gate.site, config.gate.gate)
        key_file = config.mqtt.key_file
        if not out and key_file.endswith(".key"):
            out = str(config.state_path(key_file[: -len(".key")]))
        out = out or str(Path(config.storage.state_dir) / "device")
    if not out or not cn:
        raise GateEdgeError("certs csr needs --out and --cn, or --config to take them from")
    problem = device_id_problem(cn)
    if problem is not None:
        raise GateEdgeError(f"--cn {cn!r}: {problem}")
    return out, cn


def _csr(args: argparse.Namespace) -> int:
    args.out, args.cn = _csr_defaults(args)
    key_path, csr_path = Path(f"{args.out}.key"), Path(f"{args.out}.csr")
    if key_path.exists() and not args.force:
        raise GateEdgeError(f"{key_path} exists; use --force to replace the device key")
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, args.cn)]))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.unlink(missing_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    os.chmod(key_path, 0o600)
    csr_path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    print(f"device key: {key_path} (keep on this device)")
    print(f"CSR for CN={args.cn}: {csr_path} (send to the CA)")
    return 0
