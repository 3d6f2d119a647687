"""Holder binding: a document number bound to a credential's subject without storing it."""

from __future__ import annotations

import hashlib


def subject_binding(issuer: str, document: str) -> bytes:
    """SHA-256 of UTF-8 "HCN1|" + issuer + "|" + document number (person-code match)."""
    return hashlib.sha256(f"HCN1|{issuer}|{document}".encode()).digest()
