"""`gate-central`: the central side's commands: collector, fleet, platform, keys, trust lists."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from central.collect_cmd import register as register_collect
from central.command_cmd import register as register_command
from central.credentials_cmd import register as register_credentials
from central.enrol.api import enrolment_router
from central.enrol.authority import Authority
from central.enrol.cmd import register as register_enrol
from central.errors import CentralError
from central.fleet_cmd import register as register_fleet
from central.platform.api import PlatformSetup
from central.platform.privacy import load_or_create_key, lookup_key, mask_name
from central.platform.server import serve_forever
from central.platform.store import PlatformStore, Record
from edge import __version__
from edge.errors import GateEdgeError
from edge.readfiles import printable
from edge.wire.idcard import normalise_id

EXIT_USAGE = 2
SECRET_BYTES = 32
ADMIN_STATUSES = ("green", "yellow", "red", "expired", "failed")


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(prog="gate-central", description="Central side of the gates.")
    parser.add_argument("--version", action="version", version=f"gate-central {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    platform = commands.add_parser("platform", help="the reference health-code platform")
    actions = platform.add_subparsers(dest="action", metavar="ACTION", required=True)

    serve = actions.add_parser("serve", help="serve the verification API")
    _store_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--issuer", default="CN-150000", help="issuer named in not_found answers")
    serve.add_argument("--ttl-s", type=int, default=30, help="how long gates may reuse an answer")
    serve.add_argument(
        "--enrol", type=Path, metavar="DIR", help="also serve gate enrolment from DIR"
    )
    serve.set_defaults(func=_serve)

    app = actions.add_parser("app", help="register an application and its signing secret")
    _store_arguments(app)
    app.add_argument("--app-id", required=True)
    app.add_argument("--secret-file", required=True, type=Path)
    app.add_argument(
        "--new-secret",
        action="store_true",
        help="write a new strong secret to --secret-file (mode 0600) first, then register it",
    )
    app.set_defaults(func=_app)

    holder = actions.add_parser("holder", help="register a holder by ID number, or set a status")
    _store_arguments(holder)
    holder.add_argument("--id", required=True, metavar="NUMBER | -", help="- reads stdin")
    _record_arguments(holder)
    holder.set_defaults(func=_holder)

    token = actions.add_parser("token", help="register a QR token with its status")
    _store_arguments(token)
    token.add_argument("--token", required=True, metavar="TEXT | -", help="- reads stdin")
    token.add_argument("--expires-at", type=float, metavar="EPOCH")
    _record_arguments(token)
    token.set_defaults(func=_token)

    register_credentials(commands)
    register_enrol(commands)
    register_command(commands)
    register_collect(commands)
    register_fleet(commands)
    return parser


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", required=True, help="SQLite file, or a postgresql:// URL for PostgreSQL"
    )
    parser.add_argument(
        "--lookup-key",
        type=Path,
        metavar="FILE",
        help="key of the stored ID and token hashes (default: beside a SQLite file)",
    )


def _record_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", required=True, choices=ADMIN_STATUSES)
    parser.add_argument("--issuer", default="CN-150000")
    parser.add_argument("--name", help="holder's name; only its masked form is stored")


def _open(args: argparse.Namespace) -> tuple[PlatformStore, bytes]:
    key_path = args.lookup_key
    if key_path is None:
        if "://" in args.db:
            raise CentralError("--lookup-key is required with a database URL")
        key_path = Path(f"{args.db}.lookup-key")
    key = load_or_create_key(key_path)
    return PlatformStore(args.db), key


def _value(text: str) -> str:
    value = sys.stdin.readline().strip() if text == "-" else text.strip()
    if not value:
        raise CentralError("empty value")
    return value


def _record(args: argparse.Namespace, expires_at: float | None = None) -> Record:
    return Record(
        status=args.status,
        issuer=args.issuer,
        masked_name=mask_name(args.name) if args.name else None,
        updated_at_ms=int(time.time() * 1000),
        expires_at_ms=None if expires_at is None else int(expires_at * 1000),
    )


def _serve(args: argparse.Namespace) -> int:
    store, key = _open(args)
    routers = []
    authority = None
    if args.enrol is not None:
        authority = Authority(args.enrol, time.time)
        routers.append(enrolment_router(authority))
    print(f"platform on http://{args.host}:{args.port} ({store.kind} store)", flush=True)
    try:
        setup = PlatformSetup(store, key, args.issuer, args.ttl_s)
        serve_forever(setup, args.host, args.port, routers)
    finally:
        store.close()
        if authority is not None:
            authority.close()
    return 0


def _app(args: argparse.Namespace) -> int:
    if args.new_secret:
        _write_new_secret(args.secret_file)
    try:
        secret = args.secret_file.read_bytes().strip()
    except OSError as exc:
        raise CentralError(f"cannot read {args.secret_file}: {exc.strerror}") from None
    if len(secret) < 16:
        raise CentralError("the secret must be at least 16 bytes")
    store, _ = _open(args)
    try:
        store.put_app(args.app_id, secret.decode("utf-8", errors="strict"))
    except UnicodeDecodeError:
        raise CentralError("the secret file must hold text") from None
    finally:
        store.close()
    print(f"application {args.app_id} registered")
    return 0


def _write_new_secret(path: Path) -> None:
    """32 random bytes as URL-safe text, created 0600; an existing file is never replaced."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CentralError(f"{path} exists: register it without --new-secret") from None
    except OSError as exc:
        raise CentralError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(SECRET_BYTES) + "\n")
    print(
        f"new secret in {path} (mode 0600): install it on each gate of this application as "
        "storage.state_dir/platform.secret, owner gate-edge, mode 0600"
    )


def _holder(args: argparse.Namespace) -> int:
    number = normalise_id(_value(args.id))
    if number is None:
        raise CentralError("not a resident ID number (18 characters, valid check character)")
    store, key = _open(args)
    try:
        store.put_holder(lookup_key(key, "id_card", number), _record(args))
    finally:
        store.close()
    print(f"holder {number[:6]}************ registered: {args.status}")
    return 0


def _token(args: argparse.Namespace) -> int:
    token = _value(args.token)
    store, key = _open(args)
    try:
        store.put_token(lookup_key(key, "qr_code", token), _record(args, args.expires_at))
    finally:
        store.close()
    print(f"token registered: {args.status}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become a one-line message and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except GateEdgeError as exc:
        print(f"gate-central: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
