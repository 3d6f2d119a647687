"""Errors of the central side; they derive from the product's one exception root."""

from __future__ import annotations

from edge.errors import GateEdgeError


class CentralError(GateEdgeError):
    """A central-side operation failed (store, key file, server)."""
