"""The demo's script: who steps up to the gate, with what code and what forehead temperature."""

from __future__ import annotations

from dataclasses import dataclass

from edge.sim.credentials import SECOND_ISSUER, SimCredentials, code_id_of

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


def demo_scenario(creds: SimCredentials, now: float) -> Scenario:
    """The scripted series: every rule of the gate shown once."""
    green = creds.issue("green", now)
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
