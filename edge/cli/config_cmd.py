"""`gate-edge config check FILE` and `gate-edge config reference`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from edge.app.config import Config
from edge.app.configcheck import check_config_file, file_warnings
from edge.configschema import describe
from edge.errors import ConfigError
from edge.readfiles import printable


def register(subparsers: Any) -> None:
    """Add the `config` command group."""
    parser = subparsers.add_parser("config", help="check or document the configuration")
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate a configuration file and report every error")
    check.add_argument("file")
    check.add_argument("--json", action="store_true", help="one JSON document for scripts")
    check.set_defaults(func=_check)
    reference = sub.add_parser("reference", help="print the configuration reference (Markdown)")
    reference.set_defaults(func=_reference)


def _check(args: argparse.Namespace) -> int:
    try:
        config = check_config_file(args.file)  # the same validation `run` does before starting
    except ConfigError as exc:
        warnings = file_warnings(args.file)
        if args.json:
            invalid = {"file": args.file, "valid": False, "problems": exc.problems}
            print(json.dumps({**invalid, "warnings": warnings}))
            return 2
        print(f"{printable(args.file)}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {printable(problem)}", file=sys.stderr)
        for warning in warnings:
            print(f"  warning: {printable(warning)}", file=sys.stderr)
        return 2
    warnings = file_warnings(args.file)
    if args.json:
        gate = {"site": config.gate.site, "gate": config.gate.gate}
        valid = {"file": args.file, "valid": True, "problems": [], "warnings": warnings}
        print(json.dumps({**valid, **gate}))
        return 0
    gate_name = f"site {config.gate.site}, gate {config.gate.gate}"
    print(printable(f"{args.file}: OK ({gate_name})"))
    for warning in warnings:
        print(f"  warning: {printable(warning)}", file=sys.stderr)
    return 0


def _reference(args: argparse.Namespace) -> int:
    print("| key | type | default | meaning |")
    print("|---|---|---|---|")
    for key, type_name, default, doc in describe(Config):
        print(f"| `{key}` | {type_name} | `{default}` | {doc} |")
    return 0
