"""The one canonical JSON serialisation of signed data: sorted keys, no spaces."""

from __future__ import annotations

import json


def canonical_json(value: object, *, ascii_only: bool) -> str:
    """Sorted keys and no spaces. Trust documents are signed as ASCII (non-ASCII escaped);
    operator commands are signed as UTF-8 text, so each signer keeps the form it signs."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only)
