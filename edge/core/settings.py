"""Configuration of the gate's admission policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge.configschema import setting
from edge.ids import visible_text_problem


def _operator(value: str) -> str | None:
    if not value.strip():
        return "must name the operator"
    return visible_text_problem(value, spaces=True, limit=64)


@dataclass(frozen=True)
class PolicySettings:
    """Who may pass."""

    fever_threshold_c: float = setting(
        37.3, minimum=35.0, maximum=40.0, doc="Estimated temperature at or above = fever."
    )
    remeasure_count: int = setting(
        2,
        minimum=0,
        maximum=5,
        doc="Consecutive normal re-measures needed to overrule a fever (0: a fever is final).",
    )
    person_code_match: Literal["off", "always", "sampled"] = setting(
        "off", doc="Check the holder's document against the code."
    )
    match_sample_percent: float = setting(
        10.0, minimum=0.0, maximum=100.0, doc="Share of passes checked when sampled."
    )
    anti_passback_s: float = setting(
        300.0,
        minimum=0.0,
        maximum=86400.0,
        doc="Same code or person may not pass again within (kept across restarts).",
    )
    max_code_lifetime_h: float = setting(
        24.0,
        minimum=0.0,
        maximum=8760.0,
        doc="Codes valid longer than this (exp - iat, hours) are refused lifetime_too_long; 0 off.",
    )
    manual_pass_allowed: bool = setting(True, doc="Allow manual passes (button or central).")
    button_operator: str = setting(
        "gate-attendant",
        check=_operator,
        doc="Operator recorded for manual passes from the local button.",
    )
    identity_timeout_s: float = setting(15.0, minimum=1.0, maximum=120.0, doc="Wait for document.")
    temperature_timeout_s: float = setting(
        5.0, minimum=0.5, maximum=60.0, doc="Wait for a usable temperature."
    )
    passage_timeout_s: float = setting(
        5.0, minimum=1.0, maximum=60.0, doc="Wait for the turnstile's PASS signal."
    )
    cooldown_s: float = setting(1.0, minimum=0.0, maximum=30.0, doc="Pause before the next person.")
    deny_signal_s: float = setting(
        1.0, minimum=0.0, maximum=10.0, doc="Red lamp and buzzer stay on this long after a deny."
    )
