"""EU Digital COVID Certificates (HC1:) as a credential provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge.credentials.dcc.verifier import DccVerifier

__all__ = ["DccVerifier"]


def __getattr__(name: str) -> Any:
    # The verifier (CBOR, COSE, certificates) loads on first use: a gate with DCC off reads
    # only its settings from this package.
    if name == "DccVerifier":
        from edge.credentials.dcc.verifier import DccVerifier  # noqa: PLC0415

        return DccVerifier
    raise AttributeError(name)
