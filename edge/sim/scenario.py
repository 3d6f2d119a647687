"""The demo's script: who steps up to the gate, with what code and what forehead temperature."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.sim.credentials import SECOND_ISSUER, SimCredentials, code_id_of

DEMO_SITE = "demo-site"
NORMAL_SKIN_C = 35.2  # forehead skin of a healthy person (the model adds the core offset)
FEVER_SKIN_C = 37.9


@dataclass(frozen=True)
class Step:
    """One presentation and what the gate must decide."""

    label: str
    text: str | None  # None: a manual pass by the attendant's button
    skin_c: float
    decision: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    """The steps plus the code ids the denylist must revoke before the gate starts."""

    steps: tuple[Step, ...]
    revoked: tuple[bytes, ...]


def demo_gate_settings(
    gate: str, log_level: str, state_dir: Path, root_key: Path, broker_url: str | None
) -> dict[str, Any]:
    """The configuration every demo gate shares: one site, simulated hardware, and
    short, demo-friendly timings (as parsed TOML, for the caller to add to)."""
    return {
        "gate": {"site": DEMO_SITE, "gate": gate, "log_level": log_level},
        "policy": {
            "cooldown_s": 0.3,
            "deny_signal_s": 0.4,
            "passage_timeout_s": 2.0,
            "temperature_timeout_s": 3.0,
            "remeasure_count": 1,
        },
        "trust": {"root_public_key": str(root_key)},
        "camera": {"source": "none"},
        "scan": {"debounce_s": 2.0},
        "thermo": {"backend": "fake"},
        "relay": {"backend": "fake"},
        "io": {"backend": "fake"},
        "mqtt": {
            "enabled": broker_url is not None,
            "broker": broker_url or "mqtt://127.0.0.1:1",
        },
        "storage": {"state_dir": str(state_dir)},
    }


def demo_scenario(creds: SimCredentials, now: float) -> Scenario:
    """The scripted series: every rule of the gate shown once."""
    green = creds.issue("green", now, masked_name="张*")  # the visitor screen shows it
    revoked = creds.issue("green", now)
    steps = (
        Step("green code", green, NORMAL_SKIN_C, "pass", ()),
        Step("yellow code", creds.issue("yellow", now), NORMAL_SKIN_C, "deny", ("colour_yellow",)),
        Step("red code", creds.issue("red", now), NORMAL_SKIN_C, "deny", ("colour_red",)),
        Step(
            "expired screenshot",
            creds.issue("green", now - 900, ttl_s=300),
            NORMAL_SKIN_C,
            "deny",
            ("expired",),
        ),
        Step("forged code", creds.forge(now), NORMAL_SKIN_C, "deny", ("bad_signature",)),
        Step(
            "second issuer (ES256)",
            creds.issue("green", now, issuer=SECOND_ISSUER),
            NORMAL_SKIN_C,
            "pass",
            (),
        ),
        Step("same code again", green, NORMAL_SKIN_C, "deny", ("already_used",)),
        Step("revoked code", revoked, NORMAL_SKIN_C, "deny", ("revoked",)),
        Step("fevered visitor", creds.issue("green", now), FEVER_SKIN_C, "deny", ("fever",)),
        Step(
            "EU DCC, vaccinated",
            creds.issue_dcc_vaccination(now),
            NORMAL_SKIN_C,
            "pass",
            (),
        ),
        Step(
            "EU DCC, 4-day-old test",
            creds.issue_dcc_test(now, hours_ago=96),
            NORMAL_SKIN_C,
            "deny",
            ("dcc_test_too_old",),
        ),
        Step("manual pass (no phone)", None, NORMAL_SKIN_C, "pass", ()),
    )
    return Scenario(steps, (code_id_of(revoked),))
