"""Holder binding: a document number bound to a credential's subject without storing it."""

from __future__ import annotations

import hashlib
import unicodedata


def normalise_document_number(document: str) -> str:
    """The canonical form of a document number: Unicode NFKC (full-width digits and letters
    become ASCII), every whitespace removed, upper case (a Chinese ID's check digit "x" is "X")."""
    text = document
    for _ in range(4):  # removing a space can leave a combining mark to compose: repeat
        folded = "".join(unicodedata.normalize("NFKC", text).split()).upper()
        if folded == text:
            break
        text = folded
    return text


def subject_binding(issuer: str, document: str) -> bytes:
    """SHA-256 of UTF-8 "HCN1|" + issuer + "|" + the document number in canonical form."""
    canonical = normalise_document_number(document)
    return hashlib.sha256(f"HCN1|{issuer}|{canonical}".encode()).digest()
