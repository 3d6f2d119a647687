"""EU Digital COVID Certificates (HC1:) as a credential provider."""

from __future__ import annotations

from edge.credentials.dcc.verifier import DccVerifier

__all__ = ["DccVerifier"]
