"""The JSON documents gate-edge publishes: events, status and telemetry (schema id + version)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from edge.events import GateEvent
from edge.faults import fault_scope

EVENT_SCHEMA = "gate-edge/event"
STATUS_SCHEMA = "gate-edge/status"
TELEMETRY_SCHEMA = "gate-edge/telemetry"
SCHEMA_VERSION = 1
_DETAIL_MAX = 200
# The event schema's string bounds: a longer value (from a hostile code) is cut, never refused.
_REASON_MAX = 200
_ISSUER_MAX = 64
_COLOUR_MAX = 32
_OPERATOR_MAX = 64


@dataclass(frozen=True)
class EventStamp:
    """What the outbox adds to an event when it stores it."""

    event_id: str
    site: str
    gate: str
    seq: int
    ts_ms: int


def event_document(event: GateEvent, stamp: EventStamp) -> dict[str, Any]:
    """The event payload: only privacy-safe fields of the GateEvent plus the outbox stamp."""
    temperature: dict[str, Any] | None = None
    if event.temperature is not None:
        t = event.temperature
        temperature = {
            "state": t.state,
            "object_c": _finite(t.object_c),
            "ambient_c": _finite(t.ambient_c),
            "estimate_c": _finite(t.estimate_c),
            "model": t.model,
            "samples": t.samples,
        }
        if t.measurements:
            temperature["measurements"] = [
                {"state": state, "estimate_c": estimate} for state, estimate in t.measurements
            ]
    return {
        "schema": EVENT_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "event_id": stamp.event_id,
        "site": stamp.site,
        "gate": stamp.gate,
        "seq": stamp.seq,
        "ts": stamp.ts_ms,
        "kind": event.kind,
        "decision": event.decision,
        "reasons": [reason[:_REASON_MAX] for reason in event.reasons],
        "method": event.method,
        "issuer": _clip(event.issuer, _ISSUER_MAX),
        "colour": _clip(event.colour, _COLOUR_MAX),
        "code_id_hash": event.code_id_hash,
        "temperature": temperature,
        "timings_ms": {str(k): float(v) for k, v in event.timings_ms.items() if math.isfinite(v)},
        "operator": _clip(event.operator, _OPERATOR_MAX),
        "outcome": event.outcome,
        "fault": _clip(event.fault, _DETAIL_MAX),
        "detail": _clip(event.detail, _DETAIL_MAX),
        "path": event.path,
        "identity": event.identity,
        "test": event.test,
    }


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value is not None else None


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such a reading is reported as unknown."""
    return value if value is not None and math.isfinite(value) else None


def status_document(
    state: str,
    *,
    version: str,
    ts_ms: int | None,
    faults: dict[str, str],
    dropped_events: int,
    trust: dict[str, Any] | None = None,
    certificate_expires_at: float | None = None,
) -> dict[str, Any]:
    """The retained status: "online" after connect, "offline" as the Last Will or at shutdown.

    `trust` (when known) describes the trust list and denylist in force; `blocks` says for each
    fault what it keeps shut (from the fault catalogue)."""
    document: dict[str, Any] = {
        "schema": STATUS_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "state": state,
        "version": version,
        "ts": ts_ms,
        "faults": dict(sorted(faults.items())),
        "dropped_events": dropped_events,
    }
    if trust is not None:
        document["trust"] = trust
    if certificate_expires_at is not None:
        document["certificate_expires_at"] = certificate_expires_at
    document["blocks"] = {name: fault_scope(name) for name in sorted(faults)}
    return document


def telemetry_document(ts_ms: int, metrics: dict[str, Any]) -> dict[str, Any]:
    """A periodic telemetry sample; `metrics` comes from the service and the outbox."""
    return {"schema": TELEMETRY_SCHEMA, "schema_version": SCHEMA_VERSION, "ts": ts_ms, **metrics}


def encode(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON. A character UTF-8 cannot carry (a lone surrogate, e.g. from an
    undecodable file name in an error message) becomes "?" rather than failing the document."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", errors="replace")
