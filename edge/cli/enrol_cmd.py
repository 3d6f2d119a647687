"""`gate-edge enrol`: first-boot enrolment from the per-gate file on the boot partition."""

from __future__ import annotations

import argparse
import pwd
import time
from pathlib import Path
from typing import Any

from edge.errors import EnrolmentError
from edge.provision.bootfile import DEFAULT_PATH, read_boot_file
from edge.provision.enrol import Layout, enrol, http_post, read_state
from edge.service import sdnotify


def register(subparsers: Any) -> None:
    """Add the `enrol` command."""
    parser = subparsers.add_parser(
        "enrol", help="first boot: get this gate's certificate and configuration from central"
    )
    parser.add_argument("--boot-file", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--config", type=Path, default=Path("/etc/gate-edge/gate-edge.toml"))
    parser.add_argument("--state-dir", type=Path, default=Path("/var/lib/gate-edge"))
    parser.add_argument("--template", type=Path, help="example configuration to start from")
    parser.add_argument("--owner", help="service user that must read the files (when root)")
    parser.set_defaults(func=_enrol)


def _enrol(args: argparse.Namespace) -> int:
    owner = None
    if args.owner:
        try:
            entry = pwd.getpwnam(args.owner)
        except KeyError:
            raise EnrolmentError(f"--owner {args.owner}: no such user") from None
        owner = (entry.pw_uid, entry.pw_gid)
    layout = Layout(args.config, args.state_dir, args.template, owner)
    if not args.boot_file.exists():
        state = read_state(args.state_dir) or {}
        if state.get("state") == "enrolled":
            print(f"already enrolled as {state.get('device')}; no boot file {args.boot_file}")
            return 0
        raise EnrolmentError(f"no boot file {args.boot_file} and this gate is not enrolled")
    boot = read_boot_file(args.boot_file)
    try:
        result = enrol(boot, layout, http_post(boot), time.time)
    except EnrolmentError as exc:
        # The message reaches the journal through main(); the unit's status line keeps it.
        sdnotify.status(f"enrolment failed: {exc}")
        raise
    sdnotify.status(result)
    print(result)
    return 0
