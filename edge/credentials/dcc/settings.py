"""Admission rules for EU Digital COVID Certificates, with a health authority's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from edge.configschema import setting


@dataclass(frozen=True)
class DccSettings:
    """What makes a DCC holder pass (the certificate must also verify)."""

    enabled: bool = setting(True, doc="Read EU Digital COVID Certificates (HC1:).")
    disease: str = setting("840539006", doc="Disease or agent targeted (SNOMED CT; COVID-19).")
    accept_vaccination: bool = setting(True, doc="Vaccination certificates may admit.")
    vaccination_min_days: int = setting(
        14, minimum=0, maximum=365, doc="Days after the last dose before a vaccination admits."
    )
    vaccination_max_days: int = setting(
        270,
        minimum=0,
        maximum=3650,
        doc="Days after the last dose a completed primary series admits; 0 = no limit.",
    )
    booster_without_limit: bool = setting(
        True, doc="A booster (dose beyond the series, or a third dose) has no day limit."
    )
    accept_test: bool = setting(True, doc="Negative test certificates may admit.")
    naat_max_hours: float = setting(
        72.0,
        minimum=0.0,
        maximum=720.0,
        doc="Hours after sampling a NAAT (PCR) test admits; 0 = not accepted.",
    )
    antigen_max_hours: float = setting(
        24.0,
        minimum=0.0,
        maximum=720.0,
        doc="Hours after sampling a rapid antigen test admits; 0 = not accepted.",
    )
    accept_recovery: bool = setting(True, doc="Recovery certificates admit within df..du.")
