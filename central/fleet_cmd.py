"""`gate-central fleet` (one row per gate, as a table or JSON) and `gate-central serve` (the
fleet page)."""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path
from typing import Any

from central.collect.store import open_store
from central.errors import CentralError
from central.fleet.queries import gate_facts
from central.fleet.view import FleetRow, fleet

DB_HELP = "sqlite:///PATH or postgresql://USER@HOST:PORT/DB (the collector's store)"
_COLUMNS = ("SITE", "GATE", "STATE", "SINCE", "FAULTS", "TRUST", "DENY", "BACKLOG",
            "MISSING", "LAST EVENT", "PASS", "DENY", "CERT", "VERSION")  # fmt: skip


def register(subparsers: Any) -> None:
    """Add `fleet` and `serve`."""
    fleet_parser = subparsers.add_parser("fleet", help="one row per gate: state, faults, lists")
    fleet_parser.add_argument("--db", required=True, metavar="URL", help=DB_HELP)
    fleet_parser.add_argument("--json", action="store_true", help="one JSON array")
    fleet_parser.set_defaults(func=_fleet)

    serve = subparsers.add_parser("serve", help="the fleet page for operators")
    serve.add_argument("--db", required=True, metavar="URL", help=DB_HELP)
    serve.add_argument(
        "--token-file", required=True, type=Path, metavar="FILE",
        help="the password or token operators log in with (at least 12 characters)",
    )  # fmt: skip
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    serve.add_argument("--port", type=int, default=8090)
    serve.add_argument("--refresh-s", type=float, default=5.0, help="how often the page updates")
    serve.set_defaults(func=_serve)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.datetime.fromtimestamp(ms / 1000).astimezone().strftime("%m-%d %H:%M")


def _pair(version: int | None, days: float | None) -> str:
    if version is None:
        return "-"
    return f"v{version}/{days:g}d" if days is not None else f"v{version}"


def _line(row: FleetRow) -> tuple[str, ...]:
    return (
        row.site,
        row.gate,
        row.state,
        _when(row.since_ms),
        ",".join(sorted(row.faults)) or "-",
        _pair(row.trust_list_version, row.trust_list_days_left),
        _pair(row.denylist_version, row.denylist_days_left),
        "-" if row.outbox_backlog is None else str(row.outbox_backlog),
        str(row.missing_events),
        _when(row.last_event_ms),
        str(row.passes_today),
        str(row.denies_today),
        "-" if row.certificate_days_left is None else f"{row.certificate_days_left:g}d",
        row.version or "-",
    )


def _fleet(args: argparse.Namespace) -> int:
    store = open_store(args.db, migrate=False)
    try:
        now_ms = int(time.time() * 1000)
        rows = fleet(gate_facts(store, now_ms), now_ms)
    finally:
        store.close()
    if args.json:
        print(json.dumps([row.as_dict() for row in rows], ensure_ascii=False))
        return 0
    lines = [_COLUMNS, *(_line(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(_COLUMNS))]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    return 0


def read_token(path: Path) -> str:
    """The login secret: the file's first line, at least 12 characters."""
    try:
        token = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CentralError(f"cannot read the token file {path}: {exc}") from None
    if len(token) < 12:
        raise CentralError(f"{path}: the token must be at least 12 characters")
    return token


def _serve(args: argparse.Namespace) -> int:
    from central.fleet.server import serve_forever  # noqa: PLC0415  (web stack only here)

    token = read_token(args.token_file)
    store = open_store(args.db, migrate=False)
    print(f"fleet page on http://{args.host}:{args.port} ({store.kind} store)", flush=True)
    try:
        serve_forever(store, token, args.host, args.port, args.refresh_s)
    finally:
        store.close()
    return 0
