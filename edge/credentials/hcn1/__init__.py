"""The HCN1 health-code format as a credential provider (format, codec and trust in edge.codes)."""

from __future__ import annotations

from edge.credentials.hcn1.verifier import Hcn1Verifier

__all__ = ["Hcn1Verifier"]
