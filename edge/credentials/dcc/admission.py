"""DCC admission rules: each rule that fails is its own deny reason; pure functions of the time."""

from __future__ import annotations

import datetime as dt

from edge.credentials.common.cbor import CborValue, Tagged
from edge.credentials.dcc.claims import DccClaims
from edge.credentials.dcc.settings import DccSettings
from edge.reasons import Reason

DAY_S = 86_400
HOUR_S = 3_600
TEST_NEGATIVE = "260415000"
TEST_NAAT = "LP6464-4"
TEST_ANTIGEN = "LP217198-3"


class _IncompleteError(Exception):
    """A field a rule needs is missing or unreadable."""


def refusal(claims: DccClaims, rules: DccSettings, now: float, skew_s: int) -> Reason | None:
    """The first admission rule the certificate fails, or None when it admits."""
    entry = claims.entry
    kind = claims.certificate_type
    accepted = {
        "vaccination": rules.accept_vaccination,
        "test": rules.accept_test,
        "recovery": rules.accept_recovery,
    }
    if not accepted[kind]:
        return Reason.DCC_TYPE_NOT_ACCEPTED
    try:
        if _text(entry, "tg") != rules.disease:
            return Reason.DCC_DISEASE
        if kind == "vaccination":
            return _vaccination(entry, rules, now)
        if kind == "test":
            return _test(entry, rules, now, skew_s)
        return _recovery(entry, now)
    except _IncompleteError:
        return Reason.DCC_ENTRY_INCOMPLETE


def _vaccination(entry: dict[str, CborValue], rules: DccSettings, now: float) -> Reason | None:
    dose, series = _count(entry, "dn"), _count(entry, "sd")
    if dose < series:
        return Reason.DCC_VACCINATION_INCOMPLETE
    days = (now - _date(entry, "dt")) // DAY_S
    if days < rules.vaccination_min_days:
        return Reason.DCC_VACCINATION_TOO_RECENT
    booster = dose > series or dose >= 3
    limited = rules.vaccination_max_days > 0 and not (booster and rules.booster_without_limit)
    if limited and days > rules.vaccination_max_days:
        return Reason.DCC_VACCINATION_TOO_OLD
    return None


def _test(
    entry: dict[str, CborValue], rules: DccSettings, now: float, skew_s: int
) -> Reason | None:
    limits = {TEST_NAAT: rules.naat_max_hours, TEST_ANTIGEN: rules.antigen_max_hours}
    max_hours = limits.get(_text(entry, "tt"), 0.0)
    if max_hours <= 0:
        return Reason.DCC_TEST_TYPE
    if _text(entry, "tr") != TEST_NEGATIVE:
        return Reason.DCC_TEST_NOT_NEGATIVE
    sampled = _instant(entry, "sc")
    if sampled > now + skew_s:
        return Reason.DCC_TEST_IN_FUTURE
    if now - sampled > max_hours * HOUR_S:
        return Reason.DCC_TEST_TOO_OLD
    return None


def _recovery(entry: dict[str, CborValue], now: float) -> Reason | None:
    if now < _date(entry, "df"):
        return Reason.DCC_RECOVERY_NOT_YET_VALID
    if now >= _date(entry, "du") + DAY_S:  # valid through the whole last day
        return Reason.DCC_RECOVERY_EXPIRED
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
