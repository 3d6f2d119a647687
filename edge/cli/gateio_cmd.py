"""`gate-edge gateio flash` and `gate-edge gateio status`: the fail-safe gate I/O board."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from edge.app.config import load_config
from edge.drivers.gateio_flash import DEFAULT_MPREMOTE, Flasher, read_status
from edge.drivers.gateio_frames import FIRMWARE_VERSION, default_firmware_dir, firmware_dirs
from edge.drivers.serial_ports import candidate_ports, candidates_text, port_trouble
from edge.errors import DriverError, GateEdgeError

EXIT_ERROR = 2

_NUMBERS = ("proto", "left", "pn", "bn", "opens", "hbloss", "bad", "dup", "up")
_FLAGS = ("armed", "relay", "passage", "button", "fault")


def register(subparsers: Any) -> None:
    """Add the `gateio` command group."""
    gateio = subparsers.add_parser("gateio", help="flash and check the gate I/O board")
    sub = gateio.add_subparsers(dest="gateio_command", metavar="ACTION", required=True)
    flash = sub.add_parser("flash", help="copy the firmware with mpremote and verify its version")
    _port_arguments(flash)
    flash.add_argument(
        "--firmware", type=Path, help="firmware directory (default: firmware/ of this release)"
    )
    flash.add_argument(
        "--mpremote", help="mpremote command (default: the mpremote installed with gate-edge)"
    )
    flash.set_defaults(func=_flash)
    status = sub.add_parser("status", help="print the board's state")
    _port_arguments(status)
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(func=_status)


def _port_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", help="gate-edge TOML configuration (uses relay.port)")
    where.add_argument("--port", help="the board's serial port, e.g. /dev/serial/by-id/...")


def _port(args: argparse.Namespace) -> str:
    if args.port:
        return str(args.port)
    relay = load_config(args.config).relay
    if relay.backend != "gateio" or not relay.port:
        raise GateEdgeError(f"{args.config}: relay.backend is not gateio with a relay.port")
    return relay.port


def _flash(args: argparse.Namespace) -> int:
    port = _port(args)
    firmware = args.firmware or default_firmware_dir()
    if not (firmware / "main.py").is_file():
        searched = [str(args.firmware)] if args.firmware else [str(d) for d in firmware_dirs()]
        raise DriverError(
            f"no gate I/O firmware (main.py) in {' or '.join(searched)}: reinstall gate-edge, "
            "or name the firmware directory with --firmware DIR"
        )
    mpremote = shlex.split(args.mpremote) if args.mpremote else DEFAULT_MPREMOTE
    result = Flasher(port, firmware, mpremote=mpremote, say=_say).flash()
    if result.ok:
        print(f"flashed: the board on {port} reports firmware {result.reported}")
        return 0
    print(
        f"VERSION MISMATCH: flashed {result.expected}, the board reports {result.reported}; "
        "the copy did not take: check the cable and flash again"
    )
    return 1


def _say(line: str) -> None:
    print(line, flush=True)


def board_state(port: str) -> dict[str, Any]:
    """STATUS as typed JSON-ready values; a port that cannot be opened is named with its cause."""
    try:
        fields = read_status(port)
    except DriverError as exc:
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, DriverError):
            raise DriverError(port_trouble(port, cause)) from exc
        raise DriverError(f"{exc}; {candidates_text()}") from exc
    state: dict[str, Any] = {"port": port, "expected_firmware": FIRMWARE_VERSION}
    for key, value in fields.items():
        if key in _NUMBERS and value.isdigit():
            state[key] = int(value)
        elif key in _FLAGS and value in ("0", "1"):
            state[key] = value == "1"
        else:
            state[key] = value
    return state


def _status(args: argparse.Namespace) -> int:
    if not args.json:
        return _print_status(board_state(_port(args)))
    port = args.port
    try:
        port = _port(args)
        state = board_state(port)
    except GateEdgeError as exc:
        failure = {"port": port, "ok": False, "error": str(exc)}
        print(json.dumps({**failure, "candidates": candidate_ports()}, sort_keys=True))
        return EXIT_ERROR
    print(json.dumps({**state, "ok": True}, sort_keys=True))
    return 0


def _print_status(state: dict[str, Any]) -> int:
    on = {True: "ON", False: "off"}
    fw = state.get("fw", "?")
    note = "" if fw == FIRMWARE_VERSION else f"  (this release ships {FIRMWARE_VERSION})"
    print(f"gate I/O board {state['port']}")
    print(f"  firmware {fw}, protocol {state.get('proto', '?')}{note}")
    host = "heartbeat alive" if state.get("armed") else "none (relay locked out, fault lamp on)"
    print(f"  host: {host}")
    print(f"  relay: {on[bool(state.get('relay'))]} ({state.get('left', 0)} ms left)")
    print(
        f"  passage: {on[bool(state.get('passage'))]} ({state.get('pn', 0)} activations)   "
        f"button: {on[bool(state.get('button'))]} ({state.get('bn', 0)} presses)"
    )
    print(f"  fault lamp: {on[bool(state.get('fault'))]}")
    print(
        f"  since start: {state.get('opens', 0)} opens, {state.get('hbloss', 0)} heartbeat "
        f"losses, {state.get('bad', 0)} bad frames, {state.get('dup', 0)} repeats"
    )
    print(f"  up {state.get('up', 0)} s, last reset: {state.get('reset', '?')}")
    return 0
