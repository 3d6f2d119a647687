"""Signing control-plane commands for a gate (the central side of edge.wire.commands)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from edge.wire.commands import COMMAND_SCHEMA, COMMAND_SCHEMA_VERSION, signed_bytes


def sign_command(  # noqa: PLR0913  one keyword-only parameter per field of the command message
    key: ed25519.Ed25519PrivateKey,
    *,
    name: str,
    site: str,
    gate: str,
    now: float,
    ttl_s: float = 60.0,
    operator: str | None = None,
    command_id: str | None = None,
    fault: str | None = None,
) -> bytes:
    """Build and sign a command message (the MQTT payload for gates/{site}/{gate}/cmd/{name})."""
    issued = int(now * 1000)
    body: dict[str, Any] = {
        "schema": COMMAND_SCHEMA,
        "schema_version": COMMAND_SCHEMA_VERSION,
        "command_id": command_id or str(uuid.uuid4()),
        "command": name,
        "site": site,
        "gate": gate,
        "issued_at": issued,
        "expires_at": issued + int(ttl_s * 1000),
    }
    if operator is not None:
        body["operator"] = operator
    if fault is not None:
        body["fault"] = fault
    signature = base64.b64encode(key.sign(signed_bytes(body))).decode()
    return json.dumps({"body": body, "signature": signature}).encode()
