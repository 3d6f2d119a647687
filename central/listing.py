"""Adding a central command to a parser, listed in its --help or kept as an unlisted alias."""

from __future__ import annotations

import argparse
from typing import Any


def add_command(
    subparsers: Any, name: str, help_text: str, *, listed: bool
) -> argparse.ArgumentParser:
    """A sub-command parser; argparse lists a sub-command only when it is given a help text."""
    if listed:
        parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text)
    else:
        parser = subparsers.add_parser(name)
    return parser
