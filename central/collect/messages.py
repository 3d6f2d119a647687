"""What a gate's message becomes in the store: a parsed record, or the reason it is refused."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from central.errors import CentralError
from edge.ids import id_problem
from edge.wire.schema_files import load_schema

MAX_PAYLOAD = 256 * 1024
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_REASON_MAX = 200
KINDS = ("events", "status", "telemetry", "cmd-result")
# Always kept, whatever the event schema lists: the marker of a test event.
_EXTRA_EVENT_KEYS = frozenset({"test"})


@dataclass(frozen=True)
class EventRecord:
    """One gate event; the event id is its key in the store."""

    event_id: str
    site: str
    gate: str
    seq: int
    ts: int
    kind: str
    decision: str | None
    test: bool
    document: str


@dataclass(frozen=True)
class StatusRecord:
    """A retained status document; `ts` is the gate's time, or receipt for a Last Will."""

    site: str
    gate: str
    state: str
    ts: int
    document: str


@dataclass(frozen=True)
class TelemetryRecord:
    """A telemetry sample."""

    site: str
    gate: str
    ts: int
    document: str


@dataclass(frozen=True)
class ResultRecord:
    """A gate's answer to one command."""

    command_id: str
    site: str
    gate: str
    outcome: str
    reason: str | None
    ts: int
    document: str


Record = EventRecord | StatusRecord | TelemetryRecord | ResultRecord


class RefusedMessageError(CentralError):
    """A message that can never become a record (acknowledged and counted, never stored)."""


def parse(topic: str, payload: bytes, received_ms: int) -> Record:
    """The record for a message on gates/{site}/{gate}/...; RefusedMessageError says why not."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != "gates":
        raise RefusedMessageError("not a gate topic")
    site, gate, kind = parts[1], parts[2], parts[3]
    for name, value in (("site", site), ("gate", gate)):
        if id_problem(value) is not None:
            raise RefusedMessageError(f"{name} id in the topic is not valid")
    if kind not in KINDS or (kind == "cmd-result") != (len(parts) == 5) or len(parts) > 5:
        raise RefusedMessageError("not a topic the collector stores")
    document = _document(payload)
    if kind == "events":
        return _event(site, gate, document, payload)
    if kind == "status":
        return _status(site, gate, document, received_ms)
    if kind == "telemetry":
        ts = _int(document, "ts", received_ms)
        return TelemetryRecord(site, gate, ts, _encode(document))
    return _result(site, gate, parts[4], document, received_ms)


def _document(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD:
        raise RefusedMessageError(f"payload larger than {MAX_PAYLOAD} bytes")
    try:
        # UTF-8 only (json.loads would also take UTF-16 and UTF-32 bytes).
        document = json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise RefusedMessageError("payload is not UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise RefusedMessageError("payload is not a JSON object")
    return document


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@cache
def _status_keys() -> frozenset[str]:
    return frozenset(load_schema("status")["properties"])


@cache
def _event_keys() -> frozenset[str]:
    return frozenset(load_schema("event")["properties"]) | _EXTRA_EVENT_KEYS


def _event(site: str, gate: str, document: dict[str, Any], payload: bytes) -> EventRecord:
    event_id = _uuid(document.get("event_id"), "event_id")
    if document.get("site") != site or document.get("gate") != gate:
        raise RefusedMessageError("the event names another gate than its topic")
    seq = document.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq < 2**62:
        raise RefusedMessageError("seq is not a positive integer")
    kind = document.get("kind")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise RefusedMessageError("kind is not a short lower-case name")
    decision = document.get("decision")
    if decision not in ("pass", "deny", None):
        raise RefusedMessageError("decision is not pass, deny or null")
    # Only what the event schema names is stored: a field a gate should never send (a name,
    # a document number) does not reach central storage.
    known = _event_keys()
    if known.issuperset(document):
        text = payload.decode("utf-8")  # as sent: _document proved it UTF-8 JSON
    else:
        text = _encode({key: value for key, value in document.items() if key in known})
    test = document.get("test") is True or kind == "test"
    ts = _int(document, "ts", None)
    return EventRecord(event_id, site, gate, seq, ts, kind, decision, test, text)


def _status(site: str, gate: str, document: dict[str, Any], received_ms: int) -> StatusRecord:
    state = document.get("state")
    if state not in ("online", "offline"):
        raise RefusedMessageError("status state is not online or offline")
    ts = received_ms if document.get("ts") is None else _int(document, "ts", None)
    known = _status_keys()
    kept = {key: value for key, value in document.items() if key in known}
    return StatusRecord(site, gate, str(state), ts, _encode(kept))


def _result(
    site: str, gate: str, topic_id: str, document: dict[str, Any], received_ms: int
) -> ResultRecord:
    command_id = _uuid(topic_id, "command id in the topic")
    if document.get("command_id") != command_id:
        raise RefusedMessageError("the result names another command than its topic")
    outcome = document.get("outcome")
    if outcome not in ("executed", "refused"):
        raise RefusedMessageError("outcome is not executed or refused")
    reason = document.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise RefusedMessageError("reason is not a string")
    if reason is not None:
        # Text a database column can hold: no NUL, no lone surrogate; as long as the schema's.
        reason = reason.replace("\x00", "").encode("utf-8", "replace").decode()[:_REASON_MAX]
    ts = _int(document, "ts", received_ms)
    return ResultRecord(command_id, site, gate, str(outcome), reason, ts, _encode(document))


def _uuid(value: object, name: str) -> str:
    if isinstance(value, str) and len(value) == 36:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise RefusedMessageError(f"{name} is not a UUID")


def _int(document: dict[str, Any], key: str, default: int | None) -> int:
    value = document.get(key, default)
    if value is None and default is not None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**62:
        raise RefusedMessageError(f"{key} is not a non-negative integer")
    return value


def _encode(document: dict[str, Any]) -> str:
    # ASCII with escapes: a lone surrogate or NUL from a hostile gate is still storable text.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True)
