"""Property: any parsed TOML document yields a valid Config or a ConfigError, nothing else."""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.app.config import Config, parse_config
from edge.errors import ConfigError

SECTIONS = [f.name for f in dataclasses.fields(Config)]

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _keys_of(section: str) -> list[str]:
    hint = typing.get_type_hints(Config)[section]
    return [f.name for f in dataclasses.fields(hint)]


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from([*SECTIONS, "extra"]), max_size=6)):
        if section == "extra" or draw(st.booleans()):
            doc[section] = draw(values)
            continue
        keys = _keys_of(section)
        doc[section] = draw(
            st.dictionaries(st.sampled_from([*keys, "typo"]), values, max_size=len(keys))
        )
    return doc


@settings(max_examples=300, deadline=None)
@given(documents())
def test_arbitrary_documents_never_crash(document: dict[str, Any]) -> None:
    try:
        config = parse_config(document)
    except ConfigError as exc:
        assert exc.problems
        assert all(isinstance(p, str) and ":" in p for p in exc.problems)
        return
    assert isinstance(config, Config)
    assert config.relay.pulse_ms <= 2000
    for section in SECTIONS:
        for value in dataclasses.asdict(getattr(config, section)).values():
            if isinstance(value, float):
                assert math.isfinite(value), f"{section} accepted {value}"


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(SECTIONS), st.text(min_size=1, max_size=12))
def test_unknown_keys_are_always_reported_with_their_path(section: str, key: str) -> None:
    if section != "gate" and key in _keys_of(section):
        return
    document: dict[str, Any] = {"gate": {"site": "s", "gate": "g"}}
    document.setdefault(section, {})[key] = 1
    if section == "gate" and key in _keys_of("gate"):
        return
    try:
        parse_config(document)
    except ConfigError as exc:
        assert any(p.startswith(f"{section}.{key}: unknown key") for p in exc.problems)
    else:
        raise AssertionError("an unknown key was accepted")
