"""`gate-edge decisions`: the gate's recent decisions from its local log, without personal data."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from edge.app.config import load_config
from edge.errors import GateEdgeError
from edge.storage.decision_log import DECISIONS_FILE, DECISIONS_KEPT, read_decisions


def register(subparsers: Any) -> None:
    """Add the `decisions` command."""
    parser = subparsers.add_parser(
        "decisions",
        help=f"the gate's recent decisions (the last {DECISIONS_KEPT} are kept across restarts)",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", help="gate-edge TOML configuration (uses storage.state_dir)")
    where.add_argument("--state-dir", help="directory holding decisions.db")
    parser.add_argument("--last", type=int, default=20, help="how many, newest last (default 20)")
    parser.add_argument("--json", action="store_true", help="one JSON document for scripts")
    parser.set_defaults(func=_decisions)


def _decisions(args: argparse.Namespace) -> int:
    if args.last < 1:
        raise GateEdgeError("--last must be 1 or more")
    state_dir = args.state_dir or load_config(args.config).storage.state_dir
    path = Path(state_dir) / DECISIONS_FILE
    if not path.is_file():
        raise GateEdgeError(
            f"no decisions log at {path}: wrong --config/--state-dir, or the gate has not "
            "decided anything since it was installed"
        )
    entries = read_decisions(path, args.last)
    if args.json:
        print(json.dumps({"log": str(path), "decisions": entries}))
        return 0
    for entry in entries:
        print(_line(entry))
    print(f"{len(entries)} decision(s) from {path}")
    return 0


def _line(entry: dict[str, Any]) -> str:
    """One decision for people; any value of the wrong type shows as "-" (the file is data)."""
    at = entry.get("at")
    when = "?"
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        try:
            when = datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            when = "?"
    reasons = entry.get("reasons")
    reason_text = ",".join(str(r) for r in reasons) if isinstance(reasons, list) else ""
    parts = [
        when,
        f"{_text(entry.get('verdict')).upper():<4}",
        f"{_text(entry.get('method')):<7}",
        f"reason {reason_text or '-'}",
        f"colour {_text(entry.get('colour'))}",
        f"temp {_number(entry.get('temperature_c'), '.1f', ' °C')}",
        f"latency {_number(entry.get('latency_ms'), '.0f', ' ms')}",
    ]
    outcome = entry.get("outcome")
    if isinstance(outcome, str) and outcome:
        parts.append(f"passage {outcome}")
    return "  ".join(parts)


def _text(value: object) -> str:
    return value if isinstance(value, str) and value else "-"


def _number(value: object, spec: str, unit: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:{spec}}{unit}"
    return "-"
