"""The verification result, kept importable here for callers of the HCN1 modules."""

from __future__ import annotations

from edge.credentials.result import Colour, DecisionPath, InvalidReason, VerificationResult

__all__ = ["Colour", "DecisionPath", "InvalidReason", "VerificationResult"]
