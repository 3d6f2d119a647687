"""Results of the doctor's checks: one line each for people, one JSON document for scripts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["pass", "warn", "fail", "skip"]
_MARKS: dict[Status, str] = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


@dataclass(frozen=True)
class CheckResult:
    """One check: what was checked, how it went, the cause and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The result as one text line, with the fix on a second line unless it passed."""
        text = f"[{_MARKS[self.status]}] {self.name}: {self.detail}"
        return f"{text}\n       fix: {self.fix}" if self.fix and self.status != "pass" else text


def passed(name: str, detail: str) -> CheckResult:
    """A check that found its part working, with what it saw."""
    return CheckResult(name, "pass", detail)


def warned(name: str, detail: str, fix: str) -> CheckResult:
    """A warning: the gate works, but `fix` should be done."""
    return CheckResult(name, "warn", detail, fix)


def failed(name: str, detail: str, fix: str) -> CheckResult:
    """A failure the gate cannot run with until `fix` is done."""
    return CheckResult(name, "fail", detail, fix)


def skipped(name: str, detail: str) -> CheckResult:
    """A check that did not run because its part is not configured."""
    return CheckResult(name, "skip", detail)


@dataclass
class DoctorReport:
    """Every result in the order the checks ran."""

    config: str
    results: list[CheckResult]
    event_published: bool = False

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings and skipped parts do not fail the gate)."""
        return not self.failures

    @property
    def failures(self) -> list[str]:
        """Names of the checks that failed, in order."""
        return [r.name for r in self.results if r.status == "fail"]

    def summary(self) -> str:
        """One line counting passes, warnings and failures, naming the failed checks."""
        counts = {s: sum(r.status == s for r in self.results) for s in ("pass", "warn", "fail")}
        text = f"{len(self.results)} checks: {counts['pass']} passed, {counts['warn']} warnings, "
        text += f"{counts['fail']} failed"
        return text + (f" ({', '.join(self.failures)})" if self.failures else "")

    def document(self) -> dict[str, Any]:
        """The report as a JSON-ready document (what `doctor --json` prints)."""
        return {
            "config": self.config,
            "ok": self.ok,
            "summary": self.summary(),
            "failed": self.failures,
            "event_published": self.event_published,
            "checks": [asdict(r) for r in self.results],
        }
