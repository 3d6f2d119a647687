"""Benchmark: full verifications per second (text → result) beside the raw signature check.

HCN1 (ES256, EdDSA) and EU DCC (ES256, PS256 with RSA-2048), each through the gate's credential
seam. Usage: python bench/verify.py [--quick]. One core; HCN1 ES256 target ≥ 5,000/s full path.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ed25519

from central.dcc_issue import (
    DccSigner,
    generate_signer_key,
    issue_dcc,
    make_dsc,
    negative_test_entry,
)
from central.issue import issue_code
from central.keys import generate_private_key, private_key_pem
from edge.credentials.common.cose import parse_sign1
from edge.credentials.common.keys import AlgName, verify_signature
from edge.credentials.dcc.signature import verify_dcc_signature
from edge.credentials.dcc.verifier import decode_dcc, find_signer
from edge.credentials.formats import gate_verifiers
from edge.credentials.hcn1.envelope import text_to_cose
from edge.credentials.hcn1.verify import verify_code
from edge.credentials.trust.trustlist import (
    IssuerKey,
    SignerEntry,
    build_trust_list,
    parse_trust_list,
)

NOW = 1_767_225_600
ES256_TARGET = 5_000


def rate(action: Callable[[], object], seconds: float) -> float:
    """Calls per second of `action` over roughly `seconds` of wall time."""
    count, start = 0, time.perf_counter()
    while True:
        for _ in range(100):
            action()
        count += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def measure(alg: AlgName, seconds: float, issuers: int) -> tuple[float, float]:
    """Codes verified per second in full (QR text to result) and raw signature checks per second."""
    root = ed25519.Ed25519PrivateKey.generate()
    keys = {f"CN-{110000 + 10000 * i}": generate_private_key(alg) for i in range(issuers)}
    document = build_trust_list(
        root,
        {
            issuer: [IssuerKey(key.public_key(), NOW - 86_400, NOW + 86_400)]
            for issuer, key in keys.items()
        },
        version=1,
        issued_at=NOW - 86_400,
        expires_at=NOW + 86_400,
    )
    trust = parse_trust_list(document, root.public_key())
    issuer, key = next(iter(keys.items()))
    text = issue_code(
        issuer, private_key_pem(key), "green", NOW, document="G123", masked_name="王*"
    )
    assert verify_code(text, trust, None, NOW + 1, 30).valid
    message = parse_sign1(text_to_cose(text))
    signed = message.to_be_signed()
    public_key = key.public_key()
    raw = rate(lambda: verify_signature(public_key, message.signature, signed), seconds)
    full = rate(lambda: verify_code(text, trust, None, NOW + 1, 30), seconds)
    return full, raw


def measure_dcc(alg: str, seconds: float, signers: int) -> tuple[float, float]:
    """Full DCC verification (HC1 text → admitted result) and the raw signature check alone."""
    root = ed25519.Ed25519PrivateKey.generate()
    keys = [generate_signer_key(alg) for _ in range(signers)]
    dscs = [make_dsc(key, "SE") for key in keys]
    document = build_trust_list(
        root,
        {},
        version=1,
        issued_at=NOW - 86_400,
        expires_at=NOW + 86_400,
        signers=[SignerEntry(der, "SE") for der in dscs],
    )
    trust = parse_trust_list(document, root.public_key())
    sampled = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - 3_600))
    entry = negative_test_entry("URN:UVCI:01:SE:BENCH/0001", sampled)
    text = issue_dcc(DccSigner(keys[0], dscs[0]), "test", entry, NOW - 3_600, NOW + 86_400)
    verifiers = gate_verifiers()
    assert verifiers.verify(text, trust, None, NOW, 30).admissible
    decoded = decode_dcc(text)
    signer = find_signer(decoded, trust)
    assert signer is not None
    message, public_key = decoded.message, signer.public_key
    signed = message.to_be_signed()
    raw = rate(
        lambda: verify_dcc_signature(public_key, signer.alg, message.signature, signed), seconds
    )
    full = rate(lambda: verifiers.verify(text, trust, None, NOW, 30), seconds)
    return full, raw


def main() -> int:
    """Print HCN1 and DCC verification rates for each signature algorithm."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds' smoke run")
    args = parser.parse_args()
    seconds = 0.05 if args.quick else 2.0
    keys = 4 if args.quick else 40
    print(f"HCN1 verification, one core, {seconds:.2f} s per figure, {keys} issuers in the list")
    print(f"{'alg':6} {'full /s':>10} {'raw sig /s':>11} {'full/raw':>9}")
    results = {}
    algs: tuple[AlgName, ...] = ("ES256", "EdDSA")
    for alg in algs:
        full, raw = measure(alg, seconds, issuers=keys)
        results[alg] = full
        print(f"{alg:6} {full:10,.0f} {raw:11,.0f} {full / raw:9.2f}")
    verdict = "meets" if results["ES256"] >= ES256_TARGET else "BELOW"
    print(f"ES256 full path {verdict} the {ES256_TARGET:,}/s target")
    print()
    print(f"EU DCC verification and admission, one core, {seconds:.2f} s per figure, {keys} DSCs")
    print(f"{'alg':6} {'full /s':>10} {'raw sig /s':>11} {'full/raw':>9}")
    for dcc_alg in ("ES256", "PS256"):
        full, raw = measure_dcc(dcc_alg, seconds, signers=keys)
        print(f"{dcc_alg:6} {full:10,.0f} {raw:11,.0f} {full / raw:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
