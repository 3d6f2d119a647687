"""One privacy-safe log line per decision and passage, for the journal."""

from __future__ import annotations

import logging

from edge.core.records import DecisionRecord

log = logging.getLogger("edge.decisions")


def log_decision(record: DecisionRecord) -> None:
    """Log a decision (or its passage outcome): verdict, reasons, method, issuer, colour, temp."""
    if record.outcome is not None:
        log.info("#%d passage: %s", record.number, record.outcome)
        return
    log.info(
        "#%d %s %s method=%s issuer=%s colour=%s temp=%s",
        record.number,
        record.verdict.upper(),
        ",".join(record.reasons) or "-",
        record.method,
        record.issuer or "-",
        record.colour or "-",
        "-" if record.temperature_c is None else f"{record.temperature_c:.1f}",
    )
