"""Judge the trust list and denylist in force: versions, expiry, days left, faults and warnings."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from edge.credentials.trust.trustlist import Denylist, TrustList

ListKind = Literal["trust_list", "denylist"]
LIST_LABELS: dict[ListKind, str] = {"trust_list": "trust list", "denylist": "denylist"}
_DAY_S = 86400.0


def iso_utc(epoch: float | None) -> str | None:
    """An epoch in seconds as ISO 8601 UTC ("2026-01-01T00:00:00Z"); None stays None."""
    if epoch is None or not math.isfinite(epoch):
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@dataclass(frozen=True)
class ListHealth:
    """One signed list as the gate sees it now.

    `problem` is set when the list cannot be used (missing, unreadable, unverifiable, expired)
    and says why; `warning` when it is usable but expires within the warning window.
    """

    kind: ListKind
    version: int | None
    issued_at: int | None
    expires_at: float | None
    days_left: float | None
    problem: str | None
    warning: str | None

    def summary(self) -> dict[str, Any]:
        """JSON-ready view for the status document, telemetry and the doctor."""
        state = "fault" if self.problem else "expiring" if self.warning else "ok"
        return {
            "state": state,
            "version": self.version,
            "issued_at": self.issued_at,
            "issued_at_iso": iso_utc(self.issued_at),
            "expires_at": self.expires_at,
            "expires_at_iso": iso_utc(self.expires_at),
            "days_left": self.days_left,
            "problem": self.problem,
            "warning": self.warning,
        }


@dataclass(frozen=True)
class TrustHealth:
    """Both lists. `blocking` is the cause while every code would be denied (no usable trust
    list, or an expired denylist); `denylist_problem` is a missing or unverifiable denylist,
    with which codes are still verified but no revocation is checked."""

    trust_list: ListHealth
    denylist: ListHealth

    @property
    def blocking(self) -> str | None:
        """Why every code would be denied now (no usable trust list, expired denylist), or None."""
        causes = [self.trust_list.problem] if self.trust_list.problem else []
        if self.denylist.problem and self.denylist.version is not None:
            causes.append(self.denylist.problem)  # an expired denylist denies every code
        return "; ".join(causes) or None

    @property
    def denylist_problem(self) -> str | None:
        """Why no denylist is in force (missing or unverifiable), or None."""
        return self.denylist.problem if self.denylist.version is None else None

    @property
    def warnings(self) -> tuple[str, ...]:
        """The warnings of both lists (e.g. expiring soon), trust list first."""
        return tuple(w for w in (self.trust_list.warning, self.denylist.warning) if w)

    def summary(self) -> dict[str, Any]:
        """Both lists' health as a nested document, for the status topic and `trust show`."""
        return {"trust_list": self.trust_list.summary(), "denylist": self.denylist.summary()}

    def telemetry(self) -> dict[str, Any]:
        """Flat telemetry fields: <kind>_version, _issued_at, _expires_at, _days_left, _state."""
        fields: dict[str, Any] = {}
        for health in (self.trust_list, self.denylist):
            summary = health.summary()
            for key in ("version", "issued_at", "expires_at", "days_left", "state"):
                fields[f"{health.kind}_{key}"] = summary[key]
        fields["trust_warning"] = "; ".join(self.warnings) or None
        return fields


def assess_list(
    kind: ListKind,
    document: TrustList | Denylist | None,
    file_problem: str | None,
    now: float,
    warning_days: float,
) -> ListHealth:
    """Judge one list at `now`; `file_problem` is why the file on disk was not loaded."""
    label = LIST_LABELS[kind]
    if document is None:
        return ListHealth(kind, None, None, None, None, file_problem or f"no {label}", None)
    days_left = round((document.expires_at - now) / _DAY_S, 1)
    expires = iso_utc(document.expires_at)
    problem = warning = None
    if now > document.expires_at:
        problem = f"{label} version {document.version} expired at {expires}"
    elif isinstance(document, TrustList) and not any(
        k.valid_at(now, 0) for k in document.keys.values()
    ):
        problem = f"{label} version {document.version} has no issuer key valid now"
    elif days_left < warning_days:
        warning = f"{label} version {document.version} expires in {days_left:.1f} days ({expires})"
    return ListHealth(
        kind,
        document.version,
        document.issued_at,
        document.expires_at,
        days_left,
        problem,
        warning,
    )
