"""Configuration of the credential formats the gate reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.credentials.dcc.settings import DccSettings


@dataclass(frozen=True)
class CredentialSettings:
    """Per-format settings."""

    dcc: DccSettings = field(default_factory=DccSettings)
