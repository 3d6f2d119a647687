"""Which latched faults keep a presentation shut, judged from the fault catalogue."""

from __future__ import annotations

from collections.abc import Iterable

from edge.faults import FaultScope, fault_scope


def faults_blocking(reasons: Iterable[str], method: str, source: str | None) -> tuple[str, ...]:
    """The latched faults that keep this presentation shut before any document is asked for.

    `method` is camera, serial or manual; `source` the manual source (button or central).
    Document-reader faults are judged later, only when the presentation needs the document.
    """
    blocked: list[str] = []
    for reason in reasons:
        scope = fault_scope(reason)
        if (
            scope == "everything"
            or (scope == "camera" and method == "camera")
            or (scope == "serial" and method == "serial")
            or (scope == "button" and source == "button")
        ):
            blocked.append(reason)
    return tuple(blocked)


def faults_of_scope(reasons: Iterable[str], scope: FaultScope) -> tuple[str, ...]:
    """The reasons whose catalogue scope is `scope`."""
    return tuple(r for r in reasons if fault_scope(r) == scope)
