"""Reading the key, list and certificate files the central tools are given."""

from __future__ import annotations

from pathlib import Path

from edge.errors import GateEdgeError


def read_file(path: Path, error: type[GateEdgeError]) -> bytes:
    """The file's bytes; `error` naming the file and why when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None
