"""DSCs in the signed trust list: trust build --dsc/--gateway, the gateway importer, revocation."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from central.cli import main as central
from central.gateway import import_gateway_trust_list
from central.issue import issue_code
from central.keys import generate_private_key, private_key_pem, public_key_pem
from edge.cli import main
from edge.clock import FakeClock
from edge.credentials.dcc.claims import uci_hash
from edge.credentials.dcc.verifier import DccVerifier
from edge.credentials.formats import gate_verifiers
from edge.credentials.trust.dsc import dsc_kid, parse_dsc
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.trustlist import (
    IssuerKey,
    SignerEntry,
    build_trust_list,
    parse_trust_list,
)
from edge.errors import TrustListError
from tests.dcc_support import CI, NOW, Signer, World, make_signer
from tests.trust_support import VerifyingStore


@pytest.fixture
def root_files(tmp_path: Path) -> Path:
    root = generate_private_key("EdDSA")
    (tmp_path / "root.key.pem").write_bytes(private_key_pem(root))
    (tmp_path / "root.pub.pem").write_bytes(public_key_pem(root.public_key()))
    issuer = generate_private_key("ES256")
    (tmp_path / "issuer.pub.pem").write_bytes(public_key_pem(issuer.public_key()))
    return tmp_path


def gateway_entry(der: bytes, country: str = "DE") -> dict[str, object]:
    return {
        "kid": base64.b64encode(dsc_kid(der)).decode(),
        "timestamp": "2021-06-01T00:00:00Z",
        "country": country,
        "certificateType": "DSC",
        "thumbprint": hashlib.sha256(der).hexdigest(),
        "signature": "MEUCIQ==",
        "rawData": base64.b64encode(der).decode(),
    }


def verify_json(
    files: Path, capsys: pytest.CaptureFixture[str], text: str, *extra: str
) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    args = ["verify", "--trust", str(files / "trust.json"), "--root", str(files / "root.pub.pem")]
    code = main([*args, *extra, text])
    return code, json.loads(capsys.readouterr().out)


def test_trust_build_mixes_issuers_der_and_pem_dscs(
    root_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    se, de = make_signer(country="SE"), make_signer("PS256", country="DE")
    (root_files / "se.der").write_bytes(se.der)
    pem = x509.load_der_x509_certificate(de.der).public_bytes(serialization.Encoding.PEM)
    (root_files / "de.pem").write_bytes(pem)
    args = ["trust", "build", "--root-key", str(root_files / "root.key.pem"), "--version", "1"]
    args += [
        "--issuer",
        f"CN-1={root_files / 'issuer.pub.pem'}",
        "--out",
        str(root_files / "trust.json"),
    ]
    args += ["--dsc", str(root_files / "se.der"), "--dsc", str(root_files / "de.pem")]
    assert central(args) == 0
    assert "2 DSC(s)" in capsys.readouterr().out
    trust = parse_trust_list(
        (root_files / "trust.json").read_bytes(),
        load_root_public_key((root_files / "root.pub.pem").read_bytes()),
    )
    assert trust.issuers == {"CN-1"}
    assert {s.country for signers in trust.signers.values() for s in signers} == {"SE", "DE"}
    for signer in (se, de):
        code, result = verify_json(root_files, capsys, signer.issue(), "--at", str(NOW))
        assert (code, result["format"], result["issuer"]) == (0, "dcc", signer.country)
        assert result["certificate_type"] == "vaccination" and result["colour"] == "green"
    iso = "2023-11-14T22:13:20Z"
    assert verify_json(root_files, capsys, se.issue(), "--at", iso)[0] == 0
    code, result = verify_json(root_files, capsys, se.issue(), "--at", "2025-06-01")
    assert (code, result["reason"]) == (1, "expired")
    assert (
        central(
            [
                "trust",
                "show",
                "--root",
                str(root_files / "root.pub.pem"),
                "--at",
                str(NOW),
                str(root_files / "trust.json"),
            ]
        )
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert sorted(entry["alg"] for entry in shown["dscs"]) == ["ES256", "PS256"]


def test_a_country_can_be_given_for_a_dsc_without_one(
    root_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = make_signer(country=None)
    (root_files / "bare.der").write_bytes(bare.der)
    args = ["trust", "build", "--root-key", str(root_files / "root.key.pem"), "--version", "1"]
    args += ["--dsc", f"AT={root_files / 'bare.der'}", "--out", str(root_files / "trust.json")]
    assert central(args) == 0
    assert verify_json(root_files, capsys, bare.issue(), "--at", str(NOW))[1]["issuer"] == "AT"


def test_trust_build_needs_something_to_trust(root_files: Path) -> None:
    args = ["trust", "build", "--root-key", str(root_files / "root.key.pem"), "--version", "1"]
    assert central([*args, "--out", str(root_files / "trust.json")]) == 2
    (root_files / "junk.der").write_bytes(b"junk")
    assert central([*args, "--dsc", str(root_files / "junk.der"), "--out", "x.json"]) == 2


def test_gateway_import_checks_thumbprint_and_kid(root_files: Path) -> None:
    one, two = make_signer(country=None), make_signer(country=None)
    csca = {**gateway_entry(two.der), "certificateType": "CSCA"}
    entries = import_gateway_trust_list(json.dumps([gateway_entry(one.der, "DE"), csca]).encode())
    assert entries == [SignerEntry(one.der, "DE")]
    bad_thumb = {**gateway_entry(one.der), "thumbprint": "00" * 32}
    bad_kid = {**gateway_entry(one.der), "kid": base64.b64encode(b"\x01" * 8).decode()}
    for bad in (bad_thumb, bad_kid, {**gateway_entry(one.der), "rawData": "!!"}, "nonsense"):
        with pytest.raises(TrustListError):
            import_gateway_trust_list(json.dumps([bad]).encode())
    with pytest.raises(TrustListError):
        import_gateway_trust_list(b"{not json")


def test_gateway_file_through_trust_build(
    root_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = make_signer(country=None)
    (root_files / "gw.json").write_text(json.dumps([gateway_entry(signer.der, "LU")]))
    args = ["trust", "build", "--root-key", str(root_files / "root.key.pem"), "--version", "1"]
    args += ["--gateway", str(root_files / "gw.json"), "--out", str(root_files / "trust.json")]
    assert central(args) == 0
    assert verify_json(root_files, capsys, signer.issue(), "--at", str(NOW))[1]["issuer"] == "LU"


def test_denylist_revokes_by_certificate_identifier(
    root_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = make_signer()
    (root_files / "dsc.der").write_bytes(signer.der)
    base = ["--root-key", str(root_files / "root.key.pem"), "--version", "1", "--at", str(NOW)]
    assert (
        central(
            [
                "trust",
                "build",
                *base,
                "--dsc",
                str(root_files / "dsc.der"),
                "--out",
                str(root_files / "trust.json"),
            ]
        )
        == 0
    )
    assert (
        central(["trust", "deny", *base, "--dcc-ci", CI, "--out", str(root_files / "deny.json")])
        == 0
    )
    assert CI not in (root_files / "deny.json").read_text()
    code, result = verify_json(
        root_files,
        capsys,
        signer.issue(),
        "--at",
        str(NOW),
        "--denylist",
        str(root_files / "deny.json"),
    )
    assert (code, result["reason"]) == (1, "revoked")
    deny = json.loads(json.loads((root_files / "deny.json").read_text())["payload"])
    assert deny["dcc_revocations"] == {"UCI": [uci_hash(CI).hex()]}  # the type is recorded
    country_uci = hashlib.sha256(("SE" + CI).encode()).digest()[:16].hex()
    out = ["--out", str(root_files / "deny2.json")]
    assert (
        central(["trust", "deny", *base, "--dcc-hash", f"COUNTRYCODEUCI:{country_uci}", *out]) == 0
    )
    code, result = verify_json(
        root_files, capsys, signer.issue(), "--at", str(NOW), "--denylist", out[1]
    )
    assert (code, result["reason"]) == (1, "revoked")
    assert central(["trust", "deny", *base, "--dcc-hash", "MD5:00", *out]) == 2


def test_trust_list_refuses_tampered_dsc_entries() -> None:
    world = World()
    signer = make_signer()
    payload_entry = SignerEntry(signer.der, "SE")
    document = build_trust_list(
        world.root, {}, version=1, issued_at=NOW, expires_at=NOW + 10, signers=[payload_entry]
    )
    parse_trust_list(document, world.root.public_key())
    with pytest.raises(TrustListError):
        build_trust_list(
            world.root,
            {},
            version=1,
            issued_at=NOW,
            expires_at=NOW + 10,
            signers=[SignerEntry(signer.der, "Sweden")],
        )
    with pytest.raises(TrustListError):
        build_trust_list(
            world.root,
            {},
            version=1,
            issued_at=NOW,
            expires_at=NOW + 10,
            signers=[payload_entry, payload_entry],
        )
    with pytest.raises(TrustListError):
        build_trust_list(world.root, {}, version=1, issued_at=NOW, expires_at=NOW + 10)


def test_dsc_key_types_and_usage_spellings() -> None:
    assert parse_dsc(make_signer(usages=("test", "recovery")).der).allowed_types == {
        "test",
        "recovery",
    }
    legacy = make_signer(usages=("vaccination",), legacy=True)
    assert parse_dsc(legacy.der).allowed_types == {"vaccination"}
    assert parse_dsc(make_signer().der).allowed_types == {"test", "vaccination", "recovery"}
    assert parse_dsc(make_signer("PS256").der).alg == -37


def test_a_dsc_strict_parsers_refuse_still_gives_its_key_and_country() -> None:
    signer = make_signer(country="SE", usages=("test",))
    mangled = bytearray(signer.der)
    at = mangled.find(b"\x17\x0d")  # the first UTCTime of the validity
    mangled[at + 2 : at + 4] = b"ZZ"
    with pytest.raises(ValueError):
        x509.load_der_x509_certificate(bytes(mangled))
    parsed = parse_dsc(bytes(mangled))
    assert (parsed.country, parsed.alg, parsed.allowed_types) == ("SE", -7, frozenset({"test"}))
    odd = Signer(signer.key, bytes(mangled), "SE")
    trust = World().trust(odd)
    assert DccVerifier().verify(odd.issue("test"), trust, None, NOW, 30).valid


def test_the_gates_trust_store_verifies_both_formats_and_refuses_rollback(tmp_path: Path) -> None:
    world = World()
    signer = make_signer()
    hcn1_issuer = generate_private_key("ES256")
    store = VerifyingStore(
        public_key_pem(world.root.public_key()),
        tmp_path / "trust.json",
        tmp_path / "deny.json",
        FakeClock(NOW),
        formats=gate_verifiers(),
    )
    store.load()
    assert store.verify(signer.issue()).reason == "unknown_key"
    mixed = build_trust_list(
        world.root,
        {"CN-1": [IssuerKey(hcn1_issuer.public_key(), NOW - 10, NOW + 1000)]},
        version=2,
        issued_at=NOW - 10,
        expires_at=NOW + 1000,
        signers=[SignerEntry(signer.der, "SE")],
    )
    assert store.update_trust_list(mixed) == 2
    trust = store.snapshot().trust_list
    assert sum(len(signers) for signers in trust.signers.values()) == 1 and len(trust.keys) == 1
    assert store.verify(signer.issue()).format == "dcc"
    assert store.verify(signer.issue()).valid
    hcn1 = issue_code("CN-1", private_key_pem(hcn1_issuer), "green", NOW)
    assert store.verify(hcn1).valid and store.verify(hcn1).format == "hcn1"
    older = build_trust_list(
        world.root,
        {},
        version=1,
        issued_at=NOW - 10,
        expires_at=NOW + 1000,
        signers=[SignerEntry(make_signer().der, "SE")],
    )
    with pytest.raises(TrustListError):
        store.update_trust_list(older)
    reloaded = VerifyingStore(
        public_key_pem(world.root.public_key()),
        tmp_path / "trust.json",
        tmp_path / "deny.json",
        FakeClock(NOW),
        formats=gate_verifiers(),
    )
    reloaded.load()
    assert reloaded.verify(signer.issue()).valid


def test_a_dsc_file_may_hold_bare_base64(
    root_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = make_signer(country="FR")
    (root_files / "dsc.b64").write_text(base64.b64encode(signer.der).decode() + "\n")
    args = ["trust", "build", "--root-key", str(root_files / "root.key.pem"), "--version", "1"]
    args += ["--dsc", str(root_files / "dsc.b64"), "--out", str(root_files / "trust.json")]
    assert central(args) == 0
    assert verify_json(root_files, capsys, signer.issue(), "--at", str(NOW))[1]["issuer"] == "FR"
    (root_files / "bad.b64").write_text("MIIabc")
    assert central([*args[:-4], "--dsc", str(root_files / "bad.b64"), "--out", "x.json"]) == 2


def test_a_pem_bundle_adds_every_dsc(root_files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one, two = make_signer(country="IT"), make_signer("PS256", country="NL")
    bundle = b"".join(
        x509.load_der_x509_certificate(s.der).public_bytes(serialization.Encoding.PEM)
        for s in (one, two)
    )
    (root_files / "bundle.pem").write_bytes(bundle)
    args = ["trust", "build", "--root-key", str(root_files / "root.key.pem"), "--version", "1"]
    args += ["--dsc", str(root_files / "bundle.pem"), "--out", str(root_files / "trust.json")]
    assert central(args) == 0
    assert "2 DSC(s)" in capsys.readouterr().out
    for signer in (one, two):
        result = verify_json(root_files, capsys, signer.issue(), "--at", str(NOW))[1]
        assert result["issuer"] == signer.country
