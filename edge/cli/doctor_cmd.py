"""`gate-edge doctor --config FILE [--json]`: check the whole gate in the technician's order."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from edge.doctor.report import CheckResult
from edge.doctor.runner import run_doctor


def register(subparsers: Any) -> None:
    """Add the `doctor` command."""
    doctor = subparsers.add_parser(
        "doctor",
        help="check configuration, files, devices, broker, trust lists, clock, disk, certificate",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    doctor.add_argument("--config", required=True, help="gate-edge TOML configuration file")
    doctor.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    doctor.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    def progress(result: CheckResult) -> None:
        # Progress goes to stderr in JSON mode, so stdout stays one parseable document.
        print(result.line(), file=sys.stderr if args.json else sys.stdout, flush=True)

    report = run_doctor(args.config, progress)
    if args.json:
        print(json.dumps(report.document(), indent=2))
    else:
        published = (
            "result published as a doctor event"
            if report.event_published
            else ("result not published (broker not reachable)")
        )
        print(f"\n{report.summary()}; {published}")
        for result in report.results:
            if result.status == "fail":
                print(result.line())
    return 0 if report.ok else 1
