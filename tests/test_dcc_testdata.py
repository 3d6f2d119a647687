"""The member states' own DCC test cases, each judged as of its VALIDATIONCLOCK against its DSC.

Every case of ../shared/testdata/dcc (relative to the repository root) is run step by step and
compared with its EXPECTEDRESULTS for the steps the gate performs; its QR picture is decoded with
the gate's own decoder chain; and the whole path a technician uses (`trust build --dsc`, then
`verify --at`) must reach a verdict consistent with the expectations.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from central.cli import main as central
from central.gateway import import_gateway_trust_list
from central.keys import generate_private_key, private_key_pem, public_key_pem
from edge.cli import main
from edge.credentials.common import cbor
from edge.credentials.common.base45 import b45decode
from edge.credentials.common.errors import MalformedCodeError, UnsupportedCodeError
from edge.credentials.common.inflate import bounded_inflate
from edge.credentials.dcc.claims import parse_dcc_claims
from edge.credentials.dcc.cose import parse_dcc_sign1
from edge.credentials.dcc.envelope import unprefix
from edge.credentials.dcc.verifier import DccVerifier, DecodedDcc, find_signer
from edge.credentials.trust.dsc import DocumentSigner, certificate_ders, dsc_kid, parse_dsc
from edge.credentials.trust.trustlist import TrustList
from edge.errors import GateEdgeError
from edge.scan.chain import DecoderChain
from edge.scan.preprocess import u8

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "dcc"
SKEW_S = 30

# Cases whose own declarations disagree with their data for a step checked here, with the reason;
# their other steps are still checked, and a listed case that starts agreeing fails the test.
# (step, case) -> why the expectation cannot hold. None is known for the steps checked here:
# - PL/1.3.0/1 and PL/1.3.0/5 (JSON of another person than the COSE) only break VALIDJSON,
#   and the schema steps (VALIDJSON, SCHEMAVALIDATION, VALIDOBJECT, ENCODE) are not the gate's;
# - PL/*/6 expect KEYUSAGE true on a certificate whose signature does not verify (its kid names
#   another DSC): key usage is judged as the DSC's usage against the type, apart from VERIFY;
# - FR recovery_ok, test_pcr_ok, vaccin_ok and LU INCERT_R_DCC_Recovery set a VALIDATIONCLOCK
#   before their iat but test no expiry, so their verdict may read not_yet_valid;
# - upstream CBOR fields hold the whole CWT payload in some countries' files and only the
#   certificate (-260/1) in others: either is compared.
KNOWN_BROKEN: dict[tuple[str, str], str] = {}

STEPS = ("UNPREFIX", "B45DECODE", "COMPRESSION", "VERIFY", "DECODE", "EXPIRATIONCHECK", "KEYUSAGE")
NEEDS_CERTIFICATE = {"VERIFY", "EXPIRATIONCHECK", "KEYUSAGE"}


def case_json(text: str) -> dict[str, Any]:
    """A case file's object, read as leniently as its authors wrote it.

    Some states' files open with `//` comment lines, carry a comma before a closing brace, or
    close the object early and carry on with `, "TESTCTX": ...`: the parts are read as one.
    """
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        pass
    else:
        assert isinstance(whole, dict)
        return whole
    text = re.sub(r"(?m)^\s*//.*$", "", text)  # no JSON string spans a line break
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    decoder = json.JSONDecoder()
    loaded, end = decoder.raw_decode(text.lstrip())
    rest = text.lstrip()[end:].strip()
    if rest.startswith(","):
        more = json.loads("{" + rest[1:])
        assert isinstance(loaded, dict) and isinstance(more, dict)
        loaded = {**loaded, **more}
    elif rest:
        raise json.JSONDecodeError("extra data after the case object", text, end)
    assert isinstance(loaded, dict)
    return loaded


def _is_case(path: Path) -> bool:
    """Whether a JSON file is a test case: some states' folders also hold bare certificates."""
    try:
        return "EXPECTEDRESULTS" in case_json(path.read_text("utf-8"))
    except (ValueError, AssertionError):
        return True  # an unreadable case fails its tests rather than disappearing


def _cases() -> list[Path]:
    if not DATA.is_dir():
        return []
    return sorted(path for path in DATA.rglob("*.json") if _is_case(path))


CASES = _cases()
pytestmark = pytest.mark.skipif(
    not CASES, reason=f"DCC development data not found at {DATA} (kept outside the repository)"
)


@dataclass
class Case:
    name: str
    raw: dict[str, Any]

    @property
    def expected(self) -> dict[str, bool]:
        results = self.raw.get("EXPECTEDRESULTS", {})
        fixed = {key.replace("EXPTECTED", "EXPECTED"): value for key, value in results.items()}
        return {key.removeprefix("EXPECTED"): value for key, value in fixed.items()}

    @property
    def context(self) -> dict[str, Any]:
        context = self.raw.get("TESTCTX")
        return context if isinstance(context, dict) else {}

    @property
    def has_certificate(self) -> bool:
        """Some cases carry no DSC: their signature, time and key usage cannot be judged."""
        return bool(self.context.get("CERTIFICATE"))

    @property
    def clock(self) -> float:
        text = self.context.get("VALIDATIONCLOCK") or self.context["validationClockInstant"]
        moment = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return moment.timestamp()

    @property
    def certificate(self) -> bytes:
        """The DSC as DER, read as `trust build --dsc` reads it (base64 with line breaks, PEM)."""
        return certificate_ders(str(self.context["CERTIFICATE"]).encode())[0]

    def hex_field(self, name: str) -> bytes | None:
        """A binary layer of the case: hexadecimal in most countries' files, base64 in some."""
        value = self.raw.get(name)
        if not isinstance(value, str) or not value:
            return None
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            return None

    @property
    def picture(self) -> str | None:
        value = self.raw.get("2DCODE") or self.raw.get("_2DCODE")
        return value if isinstance(value, str) and value else None


def picture_bytes(text: str) -> bytes:
    """The image file a case's 2DCODE holds: base64 in most files, hexadecimal in some."""
    text = "".join(text.split())
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", text):
        raw = bytes.fromhex(text)
        if raw.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
            return raw
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        return b""


def load(path: Path) -> Case:
    return Case(str(path.relative_to(DATA).with_suffix("")), case_json(path.read_text("utf-8")))


def trust_of(case: Case) -> TrustList:
    if not case.has_certificate:
        return TrustList(version=1, issued_at=0, expires_at=float("inf"), signers={})
    signer = parse_dsc(case.certificate)
    return TrustList(
        version=1, issued_at=0, expires_at=float("inf"), signers={signer.kid: (signer,)}
    )


def decoded_cose(case: Case) -> DecodedDcc | None:
    cose = case.hex_field("COSE")
    if cose is None:
        return None
    try:
        message = parse_dcc_sign1(cose)
        return DecodedDcc(message, parse_dcc_claims(message.payload))
    except (MalformedCodeError, UnsupportedCodeError):
        return None


def without_empty(value: cbor.CborValue) -> cbor.CborValue:
    """The value with map entries that are null or an empty list left out, at every depth."""
    if isinstance(value, dict):
        return {key: without_empty(item) for key, item in value.items() if item not in (None, [])}
    if isinstance(value, list):
        return [without_empty(item) for item in value]
    return value


def observed_steps(case: Case) -> dict[str, bool]:
    """What the gate's own code says for each step the case tests."""
    seen: dict[str, bool] = {}
    prefix = case.raw.get("PREFIX", "")
    expected = case.expected
    if "UNPREFIX" in expected:
        try:
            body = unprefix(prefix)
            base45 = case.raw.get("BASE45")
            seen["UNPREFIX"] = base45 is None or body == base45
        except (MalformedCodeError, UnsupportedCodeError):
            seen["UNPREFIX"] = False
    if "B45DECODE" in expected:
        try:
            decoded_45 = b45decode(case.raw.get("BASE45") or unprefix(prefix))
            wanted_zlib = case.hex_field("COMPRESSED")
            seen["B45DECODE"] = wanted_zlib is None or decoded_45 == wanted_zlib
        except (MalformedCodeError, UnsupportedCodeError):
            seen["B45DECODE"] = False
    if "COMPRESSION" in expected:
        given = case.hex_field("COMPRESSED")
        try:
            compressed = b45decode(unprefix(prefix)) if given is None else given
            cose = bounded_inflate(compressed)
            wanted_cose = case.hex_field("COSE")
            seen["COMPRESSION"] = wanted_cose is None or cose == wanted_cose
        except (MalformedCodeError, UnsupportedCodeError):
            seen["COMPRESSION"] = False
    decoded = decoded_cose(case)
    trust = trust_of(case)
    signer = find_signer(decoded, trust) if decoded is not None else None
    if "VERIFY" in expected:
        seen["VERIFY"] = signer is not None
    if "DECODE" in expected:
        wanted_cbor = case.hex_field("CBOR")
        if decoded is None:
            seen["DECODE"] = False
        elif wanted_cbor is None:
            seen["DECODE"] = True
        else:
            # upstream CBOR fields hold either the whole CWT payload or only the certificate
            payload = cbor.loads(decoded.message.payload, lenient=True, max_items=1024)
            assert isinstance(payload, dict)
            hcert = payload[-260]
            assert isinstance(hcert, dict)
            certificate = hcert[1]
            if isinstance(certificate, bytes):  # some issuers wrapped it in a byte string
                certificate = cbor.loads(certificate, lenient=True, max_items=1024)
            try:
                wanted = cbor.loads(wanted_cbor, lenient=True, max_items=1024)
            except MalformedCodeError:
                wanted = None
            # absent certificate types were written as empty lists or null by some issuers:
            # the gate reads those as absent, so the layers are compared the same way
            seen["DECODE"] = without_empty(wanted) in (
                without_empty(payload),
                without_empty(certificate),
            )
    if "EXPIRATIONCHECK" in expected:
        if decoded is None:
            seen["EXPIRATIONCHECK"] = False
        else:
            issued, expires, now = decoded.claims.issued_at, decoded.claims.expires_at, case.clock
            seen["EXPIRATIONCHECK"] = (
                issued is not None
                and expires is not None
                and issued <= now + SKEW_S
                and expires >= now - SKEW_S
            )
    if "KEYUSAGE" in expected:
        # the DSC's extended key usage against the certificate's type (the signature is its
        # own step: three Polish cases test key usage on a certificate that does not verify)
        seen["KEYUSAGE"] = (
            decoded is not None
            and case.has_certificate
            and parse_dsc(case.certificate).may_sign(decoded.claims.certificate_type)
        )
    return seen


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(DATA)))
def test_each_step_agrees_with_the_expected_results(path: Path) -> None:
    case = load(path)
    seen = observed_steps(case)
    for step, value in seen.items():
        if not case.has_certificate and step in NEEDS_CERTIFICATE:
            continue
        wanted = case.expected[step]
        if (step, case.name) in KNOWN_BROKEN:
            assert value != wanted, f"{case.name} {step} now agrees: remove it from KNOWN_BROKEN"
            continue
        assert value == wanted, f"{case.name}: step {step} gave {value}, expected {wanted}"


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(DATA)))
def test_the_verdict_agrees_with_the_expected_results(path: Path) -> None:
    case = load(path)
    if not case.has_certificate:
        pytest.skip("the case gives no document signer certificate to trust")
    result = DccVerifier().verify(
        case.raw.get("PREFIX", ""), trust_of(case), None, case.clock, SKEW_S
    )
    expected = {k: v for k, v in case.expected.items() if k in STEPS}
    broken = {step for step, name in KNOWN_BROKEN if name == case.name}
    if broken & set(expected):
        return  # the expectations contradict the data; the step test covers the rest
    if expected and all(expected.values()) and "PREFIX" in case.raw and "UNPREFIX" in expected:
        # without an expiry expectation the clock may lie outside the certificate's life
        allowed = {None} if "EXPIRATIONCHECK" in expected else {None, "expired", "not_yet_valid"}
        assert result.reason in allowed, f"{case.name}: {result.reason}"
        assert result.format == "dcc" and result.certificate_type is not None
    if expected.get("VERIFY") is False:
        assert result.reason in {"unknown_key", "bad_signature", "malformed", "unsupported"}
    if expected.get("KEYUSAGE") is False:
        assert result.reason == "key_usage"
    if expected.get("EXPIRATIONCHECK") is False and expected.get("VERIFY", True):
        assert result.reason in {"expired", "not_yet_valid"}
    if False in (expected.get(step) for step in ("UNPREFIX", "B45DECODE", "COMPRESSION")):
        assert result.reason in {"malformed", "unsupported"}


@pytest.mark.parametrize(
    "path",
    [path for path in CASES if load(path).picture is not None],
    ids=lambda p: str(p.relative_to(DATA)),
)
def test_the_qr_picture_decodes_to_the_exact_text(path: Path) -> None:
    case = load(path)
    picture = case.picture
    assert picture is not None
    png = picture_bytes(picture)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE) if png else None
    texts = (
        []
        if image is None
        else [c.text for c in DecoderChain(budget_ms=5000.0).decode(u8(image)).codes]
    )
    read = case.raw.get("PREFIX") in texts
    wanted = case.expected.get("PICTUREDECODE", True)
    if ("PICTUREDECODE", case.name) in KNOWN_BROKEN:
        assert read != wanted
        return
    assert read == wanted, f"{case.name}: read {texts!r}"


def test_cli_trust_build_and_verify_at_the_validation_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The technician's path on every signature-valid case: `trust build --dsc`, `verify --at`."""
    root = generate_private_key("EdDSA")
    (tmp_path / "root.key.pem").write_bytes(private_key_pem(root))
    (tmp_path / "root.pub.pem").write_bytes(public_key_pem(root.public_key()))
    checked = 0
    for path in CASES:
        case = load(path)
        expected = case.expected
        if not expected.get("VERIFY") or "PREFIX" not in case.raw or not case.has_certificate:
            continue
        (tmp_path / "dsc.der").write_bytes(case.certificate)
        trust = tmp_path / "trust.json"
        build = ["trust", "build", "--root-key", str(tmp_path / "root.key.pem")]
        build += ["--dsc", str(tmp_path / "dsc.der"), "--version", "1", "--out", str(trust)]
        assert central(build) == 0
        capsys.readouterr()
        at = case.context.get("VALIDATIONCLOCK") or case.context["validationClockInstant"]
        verify = ["verify", "--trust", str(trust), "--root", str(tmp_path / "root.pub.pem")]
        code = main([*verify, "--at", str(at), case.raw["PREFIX"]])
        result = json.loads(capsys.readouterr().out)
        assert result["format"] == "dcc", case.name
        if expected.get("EXPIRATIONCHECK") is False:
            assert result["reason"] in {"expired", "not_yet_valid"}, case.name
        elif expected.get("KEYUSAGE") is False:
            assert result["reason"] == "key_usage", case.name
        elif "EXPIRATIONCHECK" in expected:
            assert result["reason"] is None, case.name
            # Exit 0 exactly when the gate would admit it (a DCC may be valid yet refused).
            assert code == (0 if result["admit"] else 1), case.name
            assert result["admit"] or result["deny_reason"], case.name
        checked += 1
    assert checked >= min(100, len(CASES) // 2)  # most cases are signature-valid ones


def test_the_development_data_stays_outside_the_repository() -> None:
    repo = Path(__file__).resolve().parents[1]
    assert not any(repo.rglob("2DCode")), "never copy the DCC test data into the repository"


def test_a_missing_certificate_is_a_clear_error() -> None:
    with pytest.raises(GateEdgeError):
        parse_dsc(b"not a certificate")


def test_case_files_are_read_as_leniently_as_their_authors_wrote_them() -> None:
    assert case_json('{"A": {"B": [1, 2,],},}') == {"A": {"B": [1, 2]}}
    early_close = '{"PREFIX": "HC1:x"\n},\n"TESTCTX": {"VALIDATIONCLOCK": "t"}, "X": 1\n}'
    wanted = {"PREFIX": "HC1:x", "TESTCTX": {"VALIDATIONCLOCK": "t"}, "X": 1}
    assert case_json(early_close) == wanted
    assert case_json('{"KEEP": "a,}"}') == {"KEEP": "a,}"}
    assert case_json('// saved 20210510\n// file://x.json\n\n{"A": "//b"}') == {"A": "//b"}
    with pytest.raises(ValueError):
        case_json('{"A": 1} trailing')


def test_pictures_are_read_in_the_encodings_states_used() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
    encoded = base64.b64encode(png).decode()
    assert picture_bytes(encoded) == png
    assert picture_bytes(encoded[:60] + "\n" + encoded[60:].rstrip("=")) == png
    assert picture_bytes("data:image/png;base64," + encoded) == png
    assert picture_bytes(png.hex()) == png
    assert picture_bytes("!!") == b""


def test_one_gateway_list_of_every_dsc_keeps_the_signature_verdicts() -> None:
    """All cases' DSCs imported together, as from the EU gateway: no forgery becomes valid."""
    entries = []
    for case in (load(path) for path in CASES):
        if not case.has_certificate:
            continue
        der = case.certificate
        entries.append(
            {
                "kid": base64.b64encode(dsc_kid(der)).decode(),
                "country": "XX",
                "certificateType": "DSC",
                "thumbprint": hashlib.sha256(der).hexdigest(),
                "rawData": base64.b64encode(der).decode(),
            }
        )
    signers: dict[bytes, tuple[DocumentSigner, ...]] = {}
    for entry in import_gateway_trust_list(json.dumps(entries).encode()):
        signer = parse_dsc(entry.der, entry.country)
        signers[signer.kid] = (*signers.get(signer.kid, ()), signer)
    trust = TrustList(version=1, issued_at=0, expires_at=float("inf"), signers=signers)
    for path in CASES:
        case = load(path)
        wanted = case.expected.get("VERIFY")
        decoded = decoded_cose(case)
        if wanted is None or decoded is None or not case.has_certificate:
            continue
        if wanted:
            assert find_signer(decoded, trust) is not None, case.name
        else:
            # PL/*/6 name (by kid) and are signed by another Polish DSC, one that may sign
            # only recoveries: with every DSC trusted they fail on key usage instead
            result = DccVerifier().judge(decoded, trust, None, case.clock, SKEW_S)
            assert result.reason in {"unknown_key", "bad_signature", "key_usage"}, case.name
