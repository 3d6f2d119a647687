"""Configuration of the decoding loop."""

from __future__ import annotations

from dataclasses import dataclass

from edge.configschema import setting


@dataclass(frozen=True)
class ScanSettings:
    """The decoding loop."""

    frame_budget_ms: float = setting(
        40.0, minimum=1.0, maximum=1000.0, doc="Time budget for decoding one frame."
    )
    debounce_s: float = setting(
        3.0,
        minimum=0.0,
        maximum=60.0,
        doc="The same code (issuer and code id, whatever its QR text) is reported once per this "
        "window.",
    )
    idle_skip: bool = setting(True, doc="Skip decoding frames unchanged while idle.")
    idle_diff_threshold: float = setting(
        3.0,
        minimum=0.0,
        maximum=255.0,
        doc="Mean grey-level change on a 32x18 thumbnail below which an idle frame is skipped.",
    )
    max_frame_age_s: float = setting(
        0.5, minimum=0.01, maximum=10.0, doc="Frames older than this when read are dropped."
    )
    fallbacks: bool = setting(
        True,
        doc="Run the fallback decoding passes within the budget.",
    )
