"""`gate-edge relay pulse` and `gate-edge io watch`: technician checks of the relay and inputs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

from edge.app.config import load_config
from edge.drivers.gate_parts import describe_io, describe_relay, io_places, open_gate_io
from edge.drivers.io import GateIo
from edge.drivers.relay import open_relay
from edge.drivers.relay_pulse import PulsedRelay, clamp_pulse_ms, install_release_handlers
from edge.errors import GateEdgeError
from edge.ports import DigitalInput, GateRelay

# Extra time allowed for the pulse timer to release after the planned end of the pulse.
RELEASE_GRACE_S = 1.0
WATCH_POLL_S = 0.005


def register(subparsers: Any) -> None:
    """Add the `relay` and `io` command groups."""
    relay = subparsers.add_parser("relay", help="check the turnstile relay")
    relay_sub = relay.add_subparsers(dest="relay_command", metavar="ACTION", required=True)
    pulse = relay_sub.add_parser("pulse", help="pulse the configured relay once, then release")
    pulse.add_argument("--config", required=True, help="gate-edge TOML configuration file")
    pulse.add_argument(
        "--ms",
        type=int,
        help="pulse length in ms (default relay.pulse_ms; 100..relay.max_pulse_ms)",
    )
    pulse.set_defaults(func=_pulse)

    io = subparsers.add_parser("io", help="check the gate's inputs, lamps and buzzer")
    io_sub = io.add_subparsers(dest="io_command", metavar="ACTION", required=True)
    watch = io_sub.add_parser(
        "watch", help="print every change of the passage and manual-button inputs"
    )
    watch.add_argument("--config", required=True, help="gate-edge TOML configuration file")
    watch.add_argument("--seconds", type=float, default=30.0, help="how long to watch (default 30)")
    watch.add_argument(
        "--json", action="store_true", help="JSON lines: one per change, then a summary"
    )
    watch.set_defaults(func=_watch)
    test = io_sub.add_parser(
        "test", help="switch each lamp and the buzzer on for a moment, one after the other"
    )
    test.add_argument("--config", required=True, help="gate-edge TOML configuration file")
    test.add_argument(
        "--seconds", type=float, default=1.0, help="how long each output stays on (default 1)"
    )
    test.add_argument("--json", action="store_true", help="one JSON document for scripts")
    test.set_defaults(func=_test_outputs)


def _pulse(args: argparse.Namespace) -> int:
    settings = load_config(args.config).relay
    requested = settings.pulse_ms if args.ms is None else args.ms
    if requested <= 0:
        raise GateEdgeError("--ms must be a positive number of milliseconds")
    length_ms = clamp_pulse_ms(requested, settings.max_pulse_ms)
    install_release_handlers()
    where = describe_relay(settings)
    relay = open_relay(settings)
    try:
        relay.pulse(length_ms)
        clamped = f" (requested {requested} ms, clamped)" if length_ms != requested else ""
        print(f"relay {where}: energised for {length_ms} ms{clamped}", flush=True)
        _wait_pulse_end(relay, length_ms / 1000)
        relay.release()
    finally:
        relay.close()
    print(f"relay {where}: released and closed")
    return 0


def _wait_pulse_end(relay: GateRelay, length_s: float) -> None:
    """Block until the driver's timer has released the relay (or the grace time is over)."""
    if not isinstance(relay, PulsedRelay):
        time.sleep(length_s)
        return
    deadline = time.monotonic() + length_s + RELEASE_GRACE_S
    while relay.energised and time.monotonic() < deadline:
        time.sleep(0.01)


def _watch(args: argparse.Namespace) -> int:
    if args.seconds <= 0:
        raise GateEdgeError("--seconds must be more than 0")
    config = load_config(args.config)
    places = io_places(config.io)
    gate_io = open_gate_io(config.relay, config.io)
    try:
        inputs = _configured_inputs(gate_io, places)
        if not inputs:
            print(
                "gate-edge: no input configured (io.passage_line and io.manual_button_line are -1)",
                file=sys.stderr,
            )
            return 1
        started = time.monotonic()
        activations = _watch_inputs(inputs, args.seconds, as_json=args.json)
        watched_s = time.monotonic() - started
    finally:
        gate_io.close()
    if args.json:
        print(json.dumps({"watched_s": round(watched_s, 3), "activations": activations}))
        return 0
    summary = ", ".join(f"{name} {count} activation(s)" for name, count in activations.items())
    print(f"watched {watched_s:.1f} s: {summary}")
    return 0


def _configured_inputs(
    gate_io: GateIo, places: dict[str, str]
) -> dict[str, tuple[str, DigitalInput]]:
    found = {"passage": gate_io.passage, "manual_button": gate_io.manual_button}
    return {name: (places[name], part) for name, part in found.items() if part is not None}


def _test_outputs(args: argparse.Namespace) -> int:
    """Each output on for --seconds, then off, so the technician can see and hear each one."""
    if not 0 < args.seconds <= 10:
        raise GateEdgeError("--seconds must be more than 0 and at most 10")
    config = load_config(args.config)
    places = io_places(config.io)
    where = describe_io(config.relay, config.io)
    gate_io = open_gate_io(config.relay, config.io)
    tested: list[dict[str, str]] = []
    try:
        outputs = gate_io.outputs()
        if not outputs:
            print(
                "gate-edge: no output configured (io.green_lamp_line, io.red_lamp_line and "
                "io.buzzer_line are -1)",
                file=sys.stderr,
            )
            return 1
        for name, output in outputs.items():
            label = name.replace("_", " ")
            if not args.json:
                print(f"{label} ({places[name]}) on for {args.seconds:g} s ...", flush=True)
            try:
                output.on()
                time.sleep(args.seconds)
            finally:
                output.off()
            tested.append({"output": name, "at": places[name]})
    finally:
        gate_io.close()
    if args.json:
        print(json.dumps({"where": where, "seconds": args.seconds, "tested": tested}))
        return 0
    print(f"{where}: {len(tested)} output(s) switched on and off; each should have lit or sounded")
    return 0


def _watch_inputs(
    inputs: dict[str, tuple[str, DigitalInput]], seconds: float, *, as_json: bool = False
) -> dict[str, int]:
    """Print the initial state and every change until `seconds` pass or Ctrl-C."""
    start = time.monotonic()
    states = {name: part.is_active() for name, (_, part) in inputs.items()}
    activations = dict.fromkeys(inputs, 0)
    for name, (line, _) in inputs.items():
        _report(start, name, line, "now", active=states[name], as_json=as_json)
    try:
        while time.monotonic() - start < seconds:
            for name, (line, part) in inputs.items():
                active = part.is_active()
                if active != states[name]:
                    states[name] = active
                    activations[name] += int(active)
                    _report(start, name, line, "->", active=active, as_json=as_json)
            time.sleep(WATCH_POLL_S)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return activations


def _report(
    start: float, name: str, line: str, mark: str, *, active: bool, as_json: bool = False
) -> None:
    stamp = datetime.now().astimezone().isoformat(timespec="milliseconds")
    elapsed = time.monotonic() - start
    if as_json:
        change: dict[str, object] = {"ts": stamp, "elapsed_s": round(elapsed, 3), "input": name}
        change["at"] = line
        if line.startswith("line "):
            change["line"] = int(line.removeprefix("line "))
        print(json.dumps({**change, "active": active, "initial": mark == "now"}), flush=True)
        return
    state = "ACTIVE" if active else "inactive"
    print(f"{stamp} +{elapsed:7.3f} s  {name} ({line}) {mark} {state}", flush=True)
