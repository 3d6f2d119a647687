"""The deny-reason catalogue: every reason a decision can carry, its cause and what to do."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

ReasonOrigin = Literal["request", "credential", "dcc", "platform", "gate"]
"""Who gives the reason: the request check of the decision core, any credential format (HCN1
or EU certificate), the EU certificate rules alone, the online platform, or the gate itself
(controller, service, identity and temperature steps)."""


class Reason(StrEnum):
    """One stable snake_case deny reason as published in decision events, with its catalogue
    entry: who gives it, its cause and what to do (the technician guide's table is generated
    from these)."""

    origin: ReasonOrigin
    cause: str
    advice: str

    def __new__(cls, value: str, origin: ReasonOrigin, cause: str, advice: str) -> Reason:
        """A catalogue member from its value, origin, cause and advice."""
        member = str.__new__(cls, value)
        member._value_ = value
        member.origin, member.cause, member.advice = origin, cause, advice
        return member

    MALFORMED = (
        "malformed",
        "credential",
        "not a readable health code (another QR, damaged)",
        "show the health code itself",
    )
    UNSUPPORTED = (
        "unsupported",
        "credential",
        (
            "a health code of a version, prefix (e.g. `HC2:`) or algorithm the gate does not "
            "support, or an EU certificate while `credentials.dcc.enabled = false`"
        ),
        "issuer format; see code-format.md",
    )
    UNKNOWN_ISSUER = (
        "unknown_issuer",
        "credential",
        "issuer not in the trust list, or no trust list installed",
        "trust list version; central adds the issuer",
    )
    UNKNOWN_KEY = (
        "unknown_key",
        "credential",
        (
            "issuer known but this signing key is not, or the code's iat–exp lies outside the "
            "key's validity; for an EU certificate: no DSC with its kid in the trust list"
        ),
        "trust list current?",
    )
    KEY_USAGE = (
        "key_usage",
        "dcc",
        (
            "an EU certificate signed by a DSC whose extended key usage does not allow its type "
            "(test, vaccination, recovery)"
        ),
        "refer the visitor to the issuing country",
    )
    BAD_SIGNATURE = (
        "bad_signature",
        "credential",
        "signature does not verify (forged or altered code)",
        "refuse; report to central",
    )
    EXPIRED = (
        "expired",
        "credential",
        "the code's validity has ended",
        "visitor refreshes the code; if many, check the gate clock",
    )
    NOT_YET_VALID = (
        "not_yet_valid",
        "credential",
        "issued in the future",
        "the gate clock is behind: `timedatectl`",
    )
    REVOKED = (
        "revoked",
        "credential",
        "code id or person on the denylist",
        "refer the visitor to the issuer",
    )
    TRUST_LIST_EXPIRED = (
        "trust_list_expired",
        "credential",
        "the trust list or denylist passed its expiry",
        "network/broker: central must publish a fresh list",
    )
    LIFETIME_TOO_LONG = (
        "lifetime_too_long",
        "request",
        (
            "a valid code whose validity (exp − iat) is longer than `policy.max_code_lifetime_h` "
            "(default 24 h): it could outlive its holder turning red"
        ),
        "visitor refreshes the code; the issuer must issue shorter-lived codes",
    )
    COLOUR_YELLOW = (
        "colour_yellow",
        "request",
        "valid code, not green",
        "must not pass (policy)",
    )
    COLOUR_RED = (
        "colour_red",
        "request",
        "valid code, not green",
        "must not pass (policy)",
    )
    COLOUR_UNKNOWN = (
        "colour_unknown",
        "request",
        "valid signature, but the code carries no colour",
        "report the issuer",
    )
    CODE_ID_MISSING = (
        "code_id_missing",
        "request",
        "valid signature, but the code carries no code id",
        "report the issuer",
    )
    INVALID = (
        "invalid",
        "credential",
        "a credential refused without a more precise reason (a format that names none)",
        "report the issuer and the gate's software version",
    )
    DCC_TYPE_NOT_ACCEPTED = (
        "dcc_type_not_accepted",
        "dcc",
        "an EU certificate of a type switched off (`credentials.dcc.accept_*`)",
        "policy",
    )
    DCC_DISEASE = (
        "dcc_disease",
        "dcc",
        "an EU certificate not for COVID-19 (`tg` other than `credentials.dcc.disease`)",
        "must not pass",
    )
    DCC_ENTRY_INCOMPLETE = (
        "dcc_entry_incomplete",
        "dcc",
        "an EU certificate lacks a field the rules need (dose numbers, dates, test result)",
        "refer to the issuing country",
    )
    DCC_VACCINATION_INCOMPLETE = (
        "dcc_vaccination_incomplete",
        "dcc",
        "vaccination series not complete (dose `dn` below series `sd`)",
        "must not pass (policy)",
    )
    DCC_VACCINATION_TOO_RECENT = (
        "dcc_vaccination_too_recent",
        "dcc",
        "last dose fewer than `credentials.dcc.vaccination_min_days` days ago",
        "come back later",
    )
    DCC_VACCINATION_TOO_OLD = (
        "dcc_vaccination_too_old",
        "dcc",
        (
            "primary series completed more than `credentials.dcc.vaccination_max_days` days ago "
            "(boosters exempt unless `booster_without_limit = false`)"
        ),
        "a booster or a test",
    )
    DCC_TEST_TYPE = (
        "dcc_test_type",
        "dcc",
        "test type not accepted (NAAT, rapid antigen; a type with a 0-hour limit is refused)",
        "policy",
    )
    DCC_TEST_NOT_NEGATIVE = (
        "dcc_test_not_negative",
        "dcc",
        'test result is not "not detected" (260415000)',
        "must not pass",
    )
    DCC_TEST_IN_FUTURE = (
        "dcc_test_in_future",
        "dcc",
        "sample time after the gate's clock",
        "the gate clock: `timedatectl`; else refer to issuer",
    )
    DCC_TEST_TOO_OLD = (
        "dcc_test_too_old",
        "dcc",
        "sample older than `credentials.dcc.naat_max_hours` / `antigen_max_hours`",
        "a fresh test",
    )
    DCC_RECOVERY_NOT_YET_VALID = (
        "dcc_recovery_not_yet_valid",
        "dcc",
        "recovery certificate before its `df` date",
        "come back on that date",
    )
    DCC_RECOVERY_EXPIRED = (
        "dcc_recovery_expired",
        "dcc",
        "recovery certificate after its `du` date",
        "must not pass",
    )
    ALREADY_USED = (
        "already_used",
        "request",
        "same code or person passed within `policy.anti_passback_s`",
        "normal; wait, or manual pass by staff",
    )
    IDENTITY_MISSING = (
        "identity_missing",
        "gate",
        "person-code match required, no document read in `policy.identity_timeout_s`",
        "document reader enabled and working; visitor presents the document",
    )
    IDENTITY_MISMATCH = (
        "identity_mismatch",
        "gate",
        "the document does not match the code",
        "staff check",
    )
    IDENTITY_NOT_BOUND = (
        "identity_not_bound",
        "gate",
        "match required but the code carries no person binding",
        "issuer; staff check",
    )
    TEMPERATURE_UNAVAILABLE = (
        "temperature_unavailable",
        "gate",
        (
            "no usable reading within `policy.temperature_timeout_s` (nobody in front of the "
            "sensor, or a reading below `thermo.min_body_c`: the sensor saw something other than "
            "a forehead)"
        ),
        (
            "visitor steps closer; sensor aim; `thermo.presence_delta_c`; at hot sites (skin "
            'close to ambient) fit a lane sensor and set `thermo.presence = "input"` with '
            "`io.presence_line`"
        ),
    )
    SENSOR_FAULT = (
        "sensor_fault",
        "gate",
        "the thermometer failed for this presentation",
        "`ge thermo read`; wiring; bus errors in the journal",
    )
    FEVER = (
        "fever",
        "gate",
        (
            "estimate at or above `policy.fever_threshold_c`, not overruled by "
            "`policy.remeasure_count` consecutive normal re-measures (all verdicts in "
            "`temperature.measurements`)"
        ),
        (
            "rest and retry, then staff procedure; check `thermo measure` with a healthy person "
            "if frequent"
        ),
    )
    MANUAL_PASS_DISABLED = (
        "manual_pass_disabled",
        "request",
        "manual pass requested but `policy.manual_pass_allowed = false`",
        "configuration",
    )
    GATE_BUSY = (
        "gate_busy",
        "gate",
        (
            "a central open-once arrived while the gate was serving another person; the command "
            "is spent"
        ),
        "central sends a new open-once when the lane is free",
    )
    OPERATOR_MISSING = (
        "operator_missing",
        "request",
        "manual pass without an operator id",
        "central command must name the operator",
    )
    DOCUMENT_READER_FAULT = (
        "document_reader_fault",
        "gate",
        "the document reader failed during this presentation",
        "reader cable, port",
    )
    ID_INVALID = (
        "id_invalid",
        "platform",
        (
            "the ID card's number is not a resident ID number (length, check character); nothing "
            "was sent"
        ),
        "card damaged or misread; staff check",
    )
    PLATFORM_EXPIRED = (
        "platform_expired",
        "platform",
        "the platform's answer: the holder's status has expired",
        "refer the visitor to the issuing platform",
    )
    PLATFORM_NOT_FOUND = (
        "platform_not_found",
        "platform",
        "the platform's answer: it knows no holder of this code or ID number",
        "refer the visitor to the issuing platform",
    )
    PLATFORM_FAILED = (
        "platform_failed",
        "platform",
        "the platform's answer: it could not determine the holder's status",
        "refer the visitor to the issuing platform",
    )
    PLATFORM_UNAVAILABLE = (
        "platform_unavailable",
        "platform",
        (
            "the platform did not answer within `platform.timeout_ms` (or its breaker is open) "
            "and the credential cannot be decided offline"
        ),
        "network; `ge verify --config ... --id-card ...`; section 4.4",
    )
    PLATFORM_UNTRUSTED = (
        "platform_untrusted",
        "platform",
        (
            "an answer came with a wrong signature or echoed nonce (a spoofed or misconfigured "
            "platform)"
        ),
        "the app secret on both sides; report to central",
    )

    @classmethod
    def named(cls, name: str) -> Reason | None:
        """The reason published as `name`, or None when there is none of that name."""
        member = cls._value2member_map_.get(name)
        return member if isinstance(member, Reason) else None
