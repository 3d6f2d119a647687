"""`gate-edge run --config FILE` and `gate-edge demo`."""

from __future__ import annotations

import argparse
from typing import Any

from edge.service.memory import limit_malloc_arenas, limit_native_threads


def register(subparsers: Any) -> None:
    """Add the `run` and `demo` commands."""
    run = subparsers.add_parser("run", help="run the gate service (systemd Type=notify)")
    run.add_argument("--config", required=True, help="TOML configuration file")
    run.set_defaults(func=_run)
    demo = subparsers.add_parser("demo", help="the whole gate on simulated hardware")
    demo.add_argument(
        "--gateio",
        action="store_true",
        help="relay, inputs and lamps on a simulated gate I/O board (its firmware over a pty)",
    )
    demo.set_defaults(func=_demo)


def _run(args: argparse.Namespace) -> int:
    # Before numpy is first imported (by the runner) and before any thread starts.
    limit_native_threads()
    limit_malloc_arenas()
    from edge.app.runner import run_service  # noqa: PLC0415 - the demo does not need it

    return run_service(args.config)


def _demo(args: argparse.Namespace) -> int:
    limit_native_threads()
    limit_malloc_arenas()
    from edge.sim.demo import main as demo_main  # noqa: PLC0415 - the service never needs it

    return demo_main(gateio=args.gateio)
