"""Import document signer certificates from the EU gateway's published trust-list JSON."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from edge.credentials.trust.dsc import dsc_kid, parse_dsc
from edge.credentials.trust.trustlist import SignerEntry
from edge.errors import TrustListError

MAX_GATEWAY_BYTES = 64 * 1024 * 1024
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def import_gateway_trust_list(data: bytes) -> list[SignerEntry]:
    """The DSC entries of a gateway trust list (a JSON array), each one checked.

    Every entry of certificateType "DSC" must carry rawData (base64 DER) whose SHA-256 is its
    thumbprint and whose DCC kid is its kid; its country is the gateway's. Other certificate
    types (CSCA, upload certificates) are skipped. Any inconsistency refuses the whole import.
    """
    if len(data) > MAX_GATEWAY_BYTES:
        raise TrustListError("gateway trust list larger than 64 MiB")
    try:
        entries = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise TrustListError(f"gateway trust list: not valid JSON ({exc})") from None
    if not isinstance(entries, list):
        raise TrustListError("gateway trust list: expected a JSON array of entries")
    signers: list[SignerEntry] = []
    seen: set[bytes] = set()
    for index, entry in enumerate(entries):
        where = f"gateway trust list [{index}]"
        if not isinstance(entry, dict):
            raise TrustListError(f"{where}: expected an object")
        if entry.get("certificateType", "DSC") != "DSC":
            continue
        der = _base64(entry.get("rawData"), f"{where}.rawData")
        thumbprint = entry.get("thumbprint")
        if not isinstance(thumbprint, str) or not _HEX_SHA256.fullmatch(thumbprint):
            raise TrustListError(f"{where}.thumbprint: expected SHA-256 hex")
        if hashlib.sha256(der).hexdigest() != thumbprint.lower():
            raise TrustListError(f"{where}: thumbprint does not match rawData")
        kid = entry.get("kid")
        if kid is not None and _base64(kid, f"{where}.kid") != dsc_kid(der):
            raise TrustListError(f"{where}: kid does not match rawData")
        country = entry.get("country")
        if not isinstance(country, str):
            raise TrustListError(f"{where}.country: expected text")
        try:
            parse_dsc(der, country)
        except TrustListError as exc:
            raise TrustListError(f"{where}: {exc}") from None
        if der not in seen:
            seen.add(der)
            signers.append(SignerEntry(der, country))
    return signers


def _base64(value: object, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise TrustListError(f"{where}: expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise TrustListError(f"{where}: not base64") from None
