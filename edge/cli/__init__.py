"""The `gate-edge` command line: one entry point, subcommands registered by each area."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from edge import __version__
from edge.errors import GateEdgeError
from edge.readfiles import printable

# Each module defines register(subparsers) and sets `func` on its parsers; func(args) -> exit code.
_COMMAND_MODULES = (
    "edge.cli.config_cmd",
    "edge.cli.verify_cmd",
    "edge.cli.scan_cmd",
    "edge.cli.thermo_cmd",
    "edge.cli.events_cmd",
    "edge.cli.service_cmd",
    "edge.cli.io_cmd",
    "edge.cli.gateio_cmd",
    "edge.cli.doctor_cmd",
    "edge.cli.decisions_cmd",
    "edge.cli.enrol_cmd",
)

_CENTRAL_NOTE = (
    "central's tools (keys, trust lists, test codes, signed commands) are in gate-central"
)

EXIT_USAGE = 2
# `run` registers its own command only: the service never loads what the tools import.
_ALONE = {"run": "edge.cli.service_cmd"}


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """`--help` shows each option's default unless its help already says it or there is none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or action.required
            or not action.option_strings
        ):
            return action.help
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Give every parser and sub-parser the defaults-showing help formatter."""
    parser.formatter_class = DefaultsHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _show_defaults(child)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Assemble the parser from every command module that is present (or just `only`)."""
    parser = argparse.ArgumentParser(
        prog="gate-edge", description="Health-code entry gate terminal.", epilog=_CENTRAL_NOTE
    )
    parser.add_argument("--version", action="version", version=f"gate-edge {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only else _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    _show_defaults(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become a one-line message and a non-zero exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_ALONE.get(words[0]) if words else None)
    args = parser.parse_args(words)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(func(args))
    except GateEdgeError as exc:
        print(f"gate-edge: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly like other command-line tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
