"""Person-code match: bind a document number to a code's subject and decide when to check it."""

from __future__ import annotations

import hmac
from typing import Literal

from edge.clock import Clock
from edge.core.settings import PolicySettings
from edge.credentials.binding import subject_binding
from edge.ports import LineSource

_STALE_LINES_MAX = 16

IdentityOutcome = Literal["not_required", "matched", "missing", "mismatched", "not_bound"]


def identity_required(policy: PolicySettings, draw: float) -> bool:
    """Whether this presentation needs a person-code match; `draw` is uniform in [0, 1)."""
    if policy.person_code_match == "always":
        return True
    if policy.person_code_match == "sampled":
        return draw * 100.0 < policy.match_sample_percent
    return False


def match_identity(
    issuer: str | None, binding: bytes | None, document_number: str | None, *, required: bool
) -> IdentityOutcome:
    """Compare the document read at the gate with the code's subject binding in constant time."""
    if not required:
        return "not_required"
    if issuer is None or binding is None:
        return "not_bound"
    if document_number is None or not document_number:
        return "missing"
    if hmac.compare_digest(subject_binding(issuer, document_number), binding):
        return "matched"
    return "mismatched"


def discard_stale_lines(source: LineSource) -> int:
    """Throw away lines left from earlier people (call before prompting for a document);
    return how many were thrown away."""
    for discarded in range(_STALE_LINES_MAX):
        if source.read_line(0.0) is None:
            return discarded
    return _STALE_LINES_MAX


def read_document(source: LineSource, clock: Clock, timeout_s: float) -> str | None:
    """Wait for the next non-empty line: the document number."""
    deadline = clock.monotonic() + timeout_s
    while (remaining := deadline - clock.monotonic()) > 0:
        line = source.read_line(remaining)
        if line is None:
            return None
        if line.strip():
            return line.strip()
    return None
