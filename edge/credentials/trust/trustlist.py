"""Trust lists (issuers and their keys) and denylists: build, parse and query."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from edge.credentials.common.keys import (
    ALG_IDS,
    KID_LENGTH,
    AlgName,
    PublicKey,
    compute_kid,
    key_alg,
    load_public_key,
    spki_der,
)
from edge.credentials.trust.dsc import DocumentSigner, decode_der, dsc_kid, encode_der, parse_dsc
from edge.credentials.trust.signed_document import open_document, sign_document
from edge.errors import CodeFormatError, TrustListError

TRUST_LIST_TYPE = "hcn1-trust-list"
DENYLIST_TYPE = "hcn1-denylist"
DCC_REVOCATIONS = "dcc_revocations"
DCC_HASH_TYPES = ("UCI", "COUNTRYCODEUCI", "SIGNATURE")  # the EU revocation lists' hash types
_ISSUER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_EPOCH = 2**53


@dataclass(frozen=True)
class TrustedKey:
    """One issuer key with its parsed public key object, cached for fast verification."""

    issuer: str
    kid: bytes
    alg: int
    public_key: PublicKey
    not_before: int
    not_after: int

    def valid_at(self, now: float, skew_s: int) -> bool:
        """Whether the key may be used at `now`, allowing for clock skew."""
        return self.not_before - skew_s <= now <= self.not_after + skew_s

    def covers(self, issued_at: int, expires_at: int, skew_s: int) -> bool:
        """Whether a code's whole life, iat to exp, lies in this key's window (± skew).

        Judged from the code's own (signed) times, not the verification time: the key must have
        been valid when it signed, and no code outlives its key, so retiring a key by moving its
        not-after back also ends back-dated codes it might still sign.
        """
        return self.not_before - skew_s <= issued_at and expires_at <= self.not_after + skew_s


@dataclass(frozen=True)
class TrustList:
    """The issuers a gate trusts; keys are looked up by (issuer, kid) only."""

    version: int
    issued_at: int
    expires_at: float
    keys: Mapping[tuple[str, bytes], TrustedKey] = field(default_factory=dict)
    issuers: frozenset[str] = frozenset()
    signers: Mapping[bytes, tuple[DocumentSigner, ...]] = field(default_factory=dict)
    """Document signer certificates by kid (a kid may, rarely, name more than one)."""

    @classmethod
    def empty(cls) -> TrustList:
        """No trust list at all: never expires, trusts nobody (codes read unknown_issuer)."""
        return cls(version=0, issued_at=0, expires_at=math.inf)


@dataclass(frozen=True)
class Denylist:
    """Revoked code ids (16 bytes), subject bindings (32 bytes) and EU DCC revocations: hashes
    (16 bytes) by their type, UCI, COUNTRYCODEUCI or SIGNATURE."""

    version: int
    issued_at: int
    expires_at: float
    code_ids: frozenset[bytes] = frozenset()
    subjects: frozenset[bytes] = frozenset()
    dcc_revoked: frozenset[tuple[str, bytes]] = frozenset()


@dataclass(frozen=True)
class IssuerKey:
    """A key to put into a trust list being built."""

    public_key: PublicKey
    not_before: int
    not_after: int


@dataclass(frozen=True)
class SignerEntry:
    """A document signer certificate to put into a trust list being built."""

    der: bytes
    country: str = ""


def build_trust_list(
    root_key: ed25519.Ed25519PrivateKey,
    issuers: Mapping[str, Sequence[IssuerKey]],
    *,
    version: int,
    issued_at: int,
    expires_at: int,
    signers: Sequence[SignerEntry] = (),
) -> bytes:
    """Sign a trust list document (the `dscs` member only when there are signers)."""
    body: dict[str, Any] = {}
    for issuer, keys in issuers.items():
        body[issuer] = [
            {
                "kid": compute_kid(key.public_key).hex(),
                "alg": key_alg(key.public_key),
                "spki": spki_der(key.public_key).hex(),
                "not_before": key.not_before,
                "not_after": key.not_after,
            }
            for key in keys
        ]
    payload = _header(TRUST_LIST_TYPE, version, issued_at, expires_at)
    payload["issuers"] = body
    if signers:
        payload["dscs"] = [
            {
                "kid": dsc_kid(entry.der).hex(),
                "country": entry.country,
                "der": encode_der(entry.der),
            }
            for entry in signers
        ]
    parse_trust_payload(payload)  # refuse to sign what a gate would refuse to load
    return sign_document(payload, root_key)


def build_denylist(
    root_key: ed25519.Ed25519PrivateKey,
    code_ids: Sequence[bytes],
    subjects: Sequence[bytes],
    *,
    version: int,
    issued_at: int,
    expires_at: int,
    dcc_revocations: Mapping[str, Sequence[bytes]] | None = None,
) -> bytes:
    """Sign a denylist document (EU DCC revocations by hash type, when any are given)."""
    payload = _header(DENYLIST_TYPE, version, issued_at, expires_at)
    payload["code_ids"] = sorted({c.hex() for c in code_ids})
    payload["subjects"] = sorted({s.hex() for s in subjects})
    if dcc_revocations and any(dcc_revocations.values()):
        payload[DCC_REVOCATIONS] = {
            kind: sorted({h.hex() for h in hashes})
            for kind, hashes in sorted(dcc_revocations.items())
            if hashes
        }
    parse_deny_payload(payload)
    return sign_document(payload, root_key)


def parse_trust_list(data: bytes, root: ed25519.Ed25519PublicKey) -> TrustList:
    """Verify and parse a trust list document (expiry is judged by the caller)."""
    return parse_trust_payload(open_document(data, root, TRUST_LIST_TYPE))


def parse_denylist(data: bytes, root: ed25519.Ed25519PublicKey) -> Denylist:
    """Verify and parse a denylist document (expiry is judged by the caller)."""
    return parse_deny_payload(open_document(data, root, DENYLIST_TYPE))


def parse_signed_list(data: bytes, root: ed25519.Ed25519PublicKey) -> TrustList | Denylist:
    """A trust list or a denylist, whichever the document verifies as (the trust list's error
    when it is neither)."""
    try:
        return parse_trust_list(data, root)
    except TrustListError as trust_error:
        try:
            return parse_denylist(data, root)
        except TrustListError:
            raise trust_error from None


def parse_trust_payload(payload: dict[str, Any]) -> TrustList:
    """Validate a trust list payload and pre-parse every public key."""
    extra = {"issuers", "dscs"} if "dscs" in payload else {"issuers"}
    version, issued_at, expires_at = _read_header(payload, TRUST_LIST_TYPE, extra)
    signers = _parse_signers(payload.get("dscs"))
    issuers = payload["issuers"]
    if not isinstance(issuers, dict) or not (issuers or signers):
        raise TrustListError("trust list: issuers must be a non-empty object (or dscs given)")
    keys: dict[tuple[str, bytes], TrustedKey] = {}
    for issuer, entries in issuers.items():
        if not _ISSUER_ID.fullmatch(issuer):
            raise TrustListError(f"trust list: invalid issuer id {issuer!r}")
        if not isinstance(entries, list) or not entries:
            raise TrustListError(f"trust list: issuer {issuer} needs a non-empty key array")
        for index, entry in enumerate(entries):
            key = _parse_key(issuer, entry, f"trust list: issuers.{issuer}[{index}]")
            if (issuer, key.kid) in keys:
                raise TrustListError(f"trust list: issuer {issuer} lists kid {key.kid.hex()} twice")
            keys[(issuer, key.kid)] = key
    return TrustList(version, issued_at, expires_at, keys, frozenset(issuers), signers)


def _parse_signers(entries: object) -> dict[bytes, tuple[DocumentSigner, ...]]:
    if entries is None:
        return {}
    if not isinstance(entries, list) or not entries:
        raise TrustListError("trust list: dscs must be a non-empty array when present")
    signers: dict[bytes, tuple[DocumentSigner, ...]] = {}
    seen: set[bytes] = set()
    for index, entry in enumerate(entries):
        where = f"trust list: dscs[{index}]"
        fields = {"kid", "country", "der"}
        if not isinstance(entry, dict) or set(entry) != fields:
            raise TrustListError(f"{where}: fields must be exactly {', '.join(sorted(fields))}")
        der = decode_der(entry["der"], f"{where}.der")
        if der in seen:
            raise TrustListError(f"{where}: certificate listed twice")
        seen.add(der)
        country = entry["country"]
        if not isinstance(country, str):
            raise TrustListError(f"{where}.country: expected text")
        try:
            signer = parse_dsc(der, country)
        except TrustListError as exc:
            raise TrustListError(f"{where}: {exc}") from None
        if _hex(entry["kid"], KID_LENGTH, f"{where}.kid") != signer.kid:
            raise TrustListError(f"{where}: kid does not match the certificate")
        signers[signer.kid] = (*signers.get(signer.kid, ()), signer)
    return signers


def parse_deny_payload(payload: dict[str, Any]) -> Denylist:
    """Validate a denylist payload."""
    extra = {"code_ids", "subjects"} | ({DCC_REVOCATIONS} & set(payload))
    version, issued_at, expires_at = _read_header(payload, DENYLIST_TYPE, extra)
    code_ids = _hex_set(payload["code_ids"], 16, "denylist: code_ids")
    subjects = _hex_set(payload["subjects"], 32, "denylist: subjects")
    dcc = _dcc_revocations(payload.get(DCC_REVOCATIONS, {}))
    return Denylist(version, issued_at, expires_at, code_ids, subjects, dcc)


def _dcc_revocations(value: object) -> frozenset[tuple[str, bytes]]:
    where = f"denylist: {DCC_REVOCATIONS}"
    if not isinstance(value, dict) or not set(value) <= set(DCC_HASH_TYPES):
        raise TrustListError(f"{where}: an object with keys among {', '.join(DCC_HASH_TYPES)}")
    return frozenset(
        (kind, digest)
        for kind, hashes in value.items()
        for digest in _hex_set(hashes, 16, f"{where}.{kind}")
    )


def _header(kind: str, version: int, issued_at: int, expires_at: int) -> dict[str, Any]:
    return {"type": kind, "version": version, "issued_at": issued_at, "expires_at": expires_at}


def _read_header(payload: dict[str, Any], kind: str, extra: set[str]) -> tuple[int, int, int]:
    expected = {"type", "version", "issued_at", "expires_at"} | extra
    if set(payload) != expected:
        raise TrustListError(f"{kind}: fields must be exactly {', '.join(sorted(expected))}")
    version = _int(payload["version"], f"{kind}: version", 1)
    issued_at = _int(payload["issued_at"], f"{kind}: issued_at", 0)
    expires_at = _int(payload["expires_at"], f"{kind}: expires_at", 0)
    if expires_at <= issued_at:
        raise TrustListError(f"{kind}: expires_at must be after issued_at")
    return version, issued_at, expires_at


def _parse_key(issuer: str, entry: object, where: str) -> TrustedKey:
    fields = {"kid", "alg", "spki", "not_before", "not_after"}
    if not isinstance(entry, dict) or set(entry) != fields:
        raise TrustListError(f"{where}: fields must be exactly {', '.join(sorted(fields))}")
    alg_name = entry["alg"]
    if alg_name not in ALG_IDS:
        raise TrustListError(f"{where}: alg must be ES256 or EdDSA")
    try:
        public_key = load_public_key(_hex(entry["spki"], None, f"{where}.spki"))
    except CodeFormatError as exc:
        raise TrustListError(f"{where}: {exc}") from None
    alg: AlgName = alg_name
    if key_alg(public_key) != alg:
        raise TrustListError(f"{where}: key type does not match alg {alg}")
    kid = _hex(entry["kid"], KID_LENGTH, f"{where}.kid")
    if kid != compute_kid(public_key):
        raise TrustListError(f"{where}: kid does not match the key")
    not_before = _int(entry["not_before"], f"{where}.not_before", 0)
    not_after = _int(entry["not_after"], f"{where}.not_after", 0)
    if not_after < not_before:
        raise TrustListError(f"{where}: not_after is before not_before")
    return TrustedKey(issuer, kid, ALG_IDS[alg], public_key, not_before, not_after)


def _int(value: object, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= _MAX_EPOCH:
        raise TrustListError(f"{where}: expected an integer from {minimum}")
    return value


def _hex(value: object, length: int | None, where: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"(?:[0-9a-f]{2})+", value):
        raise TrustListError(f"{where}: expected lowercase hex")
    raw = bytes.fromhex(value)
    if length is not None and len(raw) != length:
        raise TrustListError(f"{where}: expected {length} bytes")
    return raw


def _hex_set(values: object, length: int, where: str) -> frozenset[bytes]:
    if not isinstance(values, list):
        raise TrustListError(f"{where}: expected an array of hex strings")
    return frozenset(_hex(value, length, f"{where}[{i}]") for i, value in enumerate(values))
