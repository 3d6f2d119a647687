"""Errors raised while parsing a health code; each maps to one verification reason."""

from __future__ import annotations

from edge.errors import CodeFormatError


class MalformedCodeError(CodeFormatError):
    """The code text, compression, CBOR or COSE structure is not a well-formed HCN1 code."""


class UnsupportedCodeError(CodeFormatError):
    """The code is well formed but uses a version, algorithm or feature the gate does not allow."""
