"""DCC admission rules: each rule that fails is its own deny reason; pure functions of the time."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from edge.credentials.common.cbor import CborValue, Tagged
from edge.credentials.dcc.claims import DccClaims
from edge.credentials.dcc.settings import DccSettings

DAY_S = 86_400
HOUR_S = 3_600
TEST_NEGATIVE = "260415000"
TEST_NAAT = "LP6464-4"
TEST_ANTIGEN = "LP217198-3"

Refusal = Literal[
    "dcc_type_not_accepted",
    "dcc_disease",
    "dcc_entry_incomplete",
    "dcc_vaccination_incomplete",
    "dcc_vaccination_too_recent",
    "dcc_vaccination_too_old",
    "dcc_test_type",
    "dcc_test_not_negative",
    "dcc_test_in_future",
    "dcc_test_too_old",
    "dcc_recovery_not_yet_valid",
    "dcc_recovery_expired",
]
REFUSALS: dict[Refusal, str] = {
    "dcc_type_not_accepted": "this gate does not accept that certificate type",
    "dcc_disease": "the certificate is not for COVID-19 (tg)",
    "dcc_entry_incomplete": "a field the rules need is missing or unreadable",
    "dcc_vaccination_incomplete": "vaccination series not complete (dn < sd)",
    "dcc_vaccination_too_recent": "too few days since the last dose",
    "dcc_vaccination_too_old": "too many days since the last dose of the primary series",
    "dcc_test_type": "test type not accepted (NAAT and rapid antigen by default)",
    "dcc_test_not_negative": "test result is not 'not detected'",
    "dcc_test_in_future": "sample time is in the future",
    "dcc_test_too_old": "sample taken too long ago",
    "dcc_recovery_not_yet_valid": "recovery certificate not yet valid (df)",
    "dcc_recovery_expired": "recovery certificate no longer valid (du)",
}


class _IncompleteError(Exception):
    """A field a rule needs is missing or unreadable."""


def refusal(claims: DccClaims, rules: DccSettings, now: float, skew_s: int) -> Refusal | None:
    """The first admission rule the certificate fails, or None when it admits."""
    entry = claims.entry
    kind = claims.certificate_type
    accepted = {
        "vaccination": rules.accept_vaccination,
        "test": rules.accept_test,
        "recovery": rules.accept_recovery,
    }
    if not accepted[kind]:
        return "dcc_type_not_accepted"
    try:
        if _text(entry, "tg") != rules.disease:
            return "dcc_disease"
        if kind == "vaccination":
            return _vaccination(entry, rules, now)
        if kind == "test":
            return _test(entry, rules, now, skew_s)
        return _recovery(entry, now)
    except _IncompleteError:
        return "dcc_entry_incomplete"


def _vaccination(entry: dict[str, CborValue], rules: DccSettings, now: float) -> Refusal | None:
    dose, series = _count(entry, "dn"), _count(entry, "sd")
    if dose < series:
        return "dcc_vaccination_incomplete"
    days = (now - _date(entry, "dt")) // DAY_S
    if days < rules.vaccination_min_days:
        return "dcc_vaccination_too_recent"
    booster = dose > series or dose >= 3
    limited = rules.vaccination_max_days > 0 and not (booster and rules.booster_without_limit)
    if limited and days > rules.vaccination_max_days:
        return "dcc_vaccination_too_old"
    return None


def _test(
    entry: dict[str, CborValue], rules: DccSettings, now: float, skew_s: int
) -> Refusal | None:
    limits = {TEST_NAAT: rules.naat_max_hours, TEST_ANTIGEN: rules.antigen_max_hours}
    max_hours = limits.get(_text(entry, "tt"), 0.0)
    if max_hours <= 0:
        return "dcc_test_type"
    if _text(entry, "tr") != TEST_NEGATIVE:
        return "dcc_test_not_negative"
    sampled = _instant(entry, "sc")
    if sampled > now + skew_s:
        return "dcc_test_in_future"
    if now - sampled > max_hours * HOUR_S:
        return "dcc_test_too_old"
    return None


def _recovery(entry: dict[str, CborValue], now: float) -> Refusal | None:
    if now < _date(entry, "df"):
        return "dcc_recovery_not_yet_valid"
    if now >= _date(entry, "du") + DAY_S:  # valid through the whole last day
        return "dcc_recovery_expired"
    return None


def _text(entry: dict[str, CborValue], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise _IncompleteError(key)
    return value.strip()


def _count(entry: dict[str, CborValue], key: str) -> int:
    value = entry.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 100:
        raise _IncompleteError(key)
    return value


def _date(entry: dict[str, CborValue], key: str) -> float:
    """A date (YYYY-MM-DD, or the date part of a date-time) as epoch seconds at 00:00 UTC."""
    text = _text(entry, key)[:10]
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _IncompleteError(key) from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def _instant(entry: dict[str, CborValue], key: str) -> float:
    """An RFC 3339 date-time (also as CBOR tag 0, or tag 1 epoch) as epoch seconds."""
    value = entry.get(key)
    if isinstance(value, Tagged) and value.tag == 1:
        epoch = value.value
        if isinstance(epoch, bool) or not isinstance(epoch, int | float):
            raise _IncompleteError(key)
        return float(epoch)
    if isinstance(value, Tagged) and value.tag == 0:
        entry = {key: value.value}
    text = _text(entry, key)
    try:
        moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise _IncompleteError(key) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()
