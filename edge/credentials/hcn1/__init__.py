"""The HCN1 health-code format as a credential provider; trust lives in edge.credentials.trust."""

from __future__ import annotations

from edge.credentials.hcn1.verifier import Hcn1Verifier

__all__ = ["Hcn1Verifier"]
