"""A gate's answer to each command, on gates/{site}/{gate}/cmd-result/{command id}."""

from __future__ import annotations

import json
import uuid
from typing import Any

from edge.wire.topics import COMMAND_NAMES

RESULT_SCHEMA = "gate-edge/command-result"
RESULT_SCHEMA_VERSION = 1
_REASON_MAX = 200


def claimed_command_id(payload: bytes) -> str | None:
    """The command id a payload claims, read without trusting it (so that a refused command
    is answered too), or None when there is no well-formed one to answer."""
    try:
        envelope = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    body = envelope.get("body") if isinstance(envelope, dict) else None
    value = body.get("command_id") if isinstance(body, dict) else None
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        canonical = str(uuid.UUID(value))
    except ValueError:
        return None
    return canonical if canonical == value else None


def result_document(
    *,
    command_id: str,
    command: str | None,
    site: str,
    gate: str,
    executed: bool,
    reason: str | None,
    ts_ms: int,
) -> dict[str, Any]:
    """The result: executed, or refused with the reason (verification or execution)."""
    return {
        "schema": RESULT_SCHEMA,
        "schema_version": RESULT_SCHEMA_VERSION,
        "command_id": command_id,
        "command": command if command in COMMAND_NAMES else None,
        "site": site,
        "gate": gate,
        "outcome": "executed" if executed else "refused",
        "reason": None if reason is None else reason[:_REASON_MAX],
        "ts": ts_ms,
    }
