"""What the visitor screen shows for a moment of the gate: a pure function of that moment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.core.records import DecisionRecord, GateState
from edge.faults import fault_scope
from edge.screen.catalogue import Catalogue

_PHASES = {
    GateState.IDENTITY: "identity",
    GateState.TEMPERATURE: "measuring",
}
MAX_NAME_CHARS = 24
MAX_NEXT_TEXTS = 2


@dataclass(frozen=True)
class Moment:
    """The controller's state, the decision on show (None once its moment has passed) and the
    faults on the board."""

    state: GateState
    record: DecisionRecord | None
    faults: tuple[str, ...]


def phase_of(moment: Moment) -> str:
    """idle, reading, identity, measuring, decision or out_of_service (which, once the gate is
    idle, goes before a decision still on show: it is what the next visitor needs to know)."""
    idle = moment.state == GateState.IDLE
    if idle and out_of_service(moment.faults):
        return "out_of_service"
    if moment.record is not None:
        return "decision"
    return "idle" if idle else _PHASES.get(moment.state, "reading")


def out_of_service(faults: tuple[str, ...]) -> tuple[str, ...]:
    """The faults that keep every presentation shut."""
    return tuple(f for f in faults if fault_scope(f) == "everything")


def limiting(faults: tuple[str, ...]) -> tuple[str, ...]:
    """The faults that shut one way of presenting (camera, scanner, document reader)."""
    return tuple(f for f in faults if fault_scope(f) in ("camera", "serial", "document"))


def mask_name(name: str | None) -> str | None:
    """At most the first character of each part of a name; the rest as asterisks (applied even
    to a name the issuer masked already)."""
    if not name or not name.strip():
        return None
    parts = [part[0] + "*" * min(len(part) - 1, 3) for part in name.split()]
    return " ".join(parts)[:MAX_NAME_CHARS]


def colour_of(record: DecisionRecord) -> str:
    """The screen colour of a decision: green pass, yellow for a yellow code, else red."""
    if record.verdict == "pass":
        return "green"
    return "yellow" if "colour_yellow" in record.reasons else "red"


def view(moment: Moment, catalogues: Mapping[str, Catalogue], seq: int) -> dict[str, Any]:
    """The document the page renders (also served as /state)."""
    phase = phase_of(moment)
    record = moment.record if phase == "decision" else None  # out of service hides it
    moment = Moment(moment.state, record, moment.faults)
    document: dict[str, Any] = {
        "seq": seq,
        "phase": phase,
        "verdict": record.verdict if record else None,
        "colour": colour_of(record) if record else None,
        "reasons": list(record.reasons) if record else [],
        "temperature_c": _rounded(record.temperature_c) if record else None,
        "name": mask_name(record.masked_name) if record else None,
        "decided_at": record.at if record else None,
        "faults": list(out_of_service(moment.faults) + limiting(moment.faults)),
        "languages": [_texts(catalogue, phase, moment) for catalogue in catalogues.values()],
    }
    return document


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _texts(catalogue: Catalogue, phase: str, moment: Moment) -> dict[str, Any]:
    record = moment.record
    next_texts: list[str] = []
    if record is not None:
        headline = catalogue.state(record.verdict).screen
        for reason in record.reasons:
            text = catalogue.reason(reason).screen
            if text not in next_texts and len(next_texts) < MAX_NEXT_TEXTS:
                next_texts.append(text)
    elif phase == "out_of_service":
        headline = catalogue.state("out_of_service").screen
        for fault in out_of_service(moment.faults):
            text = catalogue.fault(fault).screen
            if text != headline and text not in next_texts:
                next_texts.append(text)
    else:
        headline = catalogue.state(phase).screen
    notes = []
    if phase in ("idle", "decision"):
        notes = [catalogue.fault(fault).screen for fault in limiting(moment.faults)]
    return {
        "tag": catalogue.tag,
        "name": catalogue.name,
        "vertical": catalogue.vertical,
        "headline": headline,
        "next": next_texts,
        "notes": notes,
        "offline": catalogue.state("out_of_service").screen,
    }
