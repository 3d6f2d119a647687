"""What an attacker on the gate's network can send: hypothesis strategies and fixed poison."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

# Lone surrogates and non-ASCII characters are what broke the parsers, so they are drawn often.
hostile_chars = st.one_of(
    st.characters(exclude_categories=[]),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=[]),
    st.sampled_from(["é", "\u2028", "\x00", '"', "\\", "\ufeff"]),
)
hostile_text = st.text(hostile_chars, max_size=40)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)


def _json(value: Any) -> bytes:
    """JSON text the way a hostile client may write it: surrogates escaped, NaN allowed."""
    return json.dumps(value, ensure_ascii=True).encode()


def _nested(depth: int, opener: str) -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "[":
        return ("[" * depth + "]" * depth).encode()
    return ('{"a":' * depth + "1" + closer * depth).encode()


deep_nesting = st.builds(_nested, st.integers(50, 60_000), st.sampled_from(["[", "{"])) | (
    st.integers(50, 60_000).map(lambda n: b"[" * n)
)

zero_signature = base64.b64encode(bytes(64)).decode()
signatures = st.just(zero_signature) | st.binary(min_size=0, max_size=80).map(
    lambda raw: base64.b64encode(raw).decode()
)


def signed_wrapper(payload_text: str, signature: str) -> bytes:
    """A trust document wrapper in canonical form around any payload text."""
    outer = {"payload": payload_text, "signature": signature}
    return (json.dumps(outer, sort_keys=True, separators=(",", ":")) + "\n").encode()


trust_documents = st.one_of(
    st.binary(max_size=200),
    deep_nesting,
    st.builds(signed_wrapper, hostile_text, signatures),
    st.builds(signed_wrapper, json_values.map(lambda v: _json(v).decode()), signatures),
    json_values.map(_json),
    st.builds(
        lambda payload, signature: _json({"payload": payload, "signature": signature}),
        json_values,
        json_values,
    ),
)

command_bodies = st.fixed_dictionaries(
    {
        "schema": st.just("gate-edge/command") | json_values,
        "schema_version": st.just(1) | json_values,
        "command_id": st.uuids().map(str) | json_values,
        "command": st.sampled_from(["open-once", "reload-config", "refresh-trust"]) | json_values,
        "site": st.just("s1") | json_values,
        "gate": st.just("g1") | json_values,
        "issued_at": st.integers(0, 2**63) | json_values,
        "expires_at": st.integers(0, 2**63) | json_values,
    },
    optional={"operator": hostile_text | json_values, "extra": json_values},
)

commands = st.one_of(
    st.binary(max_size=200),
    deep_nesting,
    json_values.map(_json),
    st.builds(lambda b, s: _json({"body": b, "signature": s}), command_bodies, signatures),
    st.builds(lambda b, s: _json({"body": b, "signature": s}), json_values, json_values),
    deep_nesting.map(lambda nested: b'{"body":{"a":' + nested + b'},"signature":""}'),
)

# The payloads that took fleets down, as reported from the field.
FIELD_POISON = {
    "trust/trust-list": signed_wrapper("é", zero_signature),
    "trust/denylist": signed_wrapper("\ud800", zero_signature),
    "cmd/open-once": b"[" * 50_000,
    "cmd/reload-config": b'{"body":{"a":"\\ud800"},"signature":""}',
    "cmd/refresh-trust": b"\xff\xfe not even text",
}
