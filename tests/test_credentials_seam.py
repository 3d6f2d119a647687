"""The credential seam: dispatch by prefix, a format-neutral result, a core free of providers."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from central.issue import issue_code
from edge.core.decision import ScanPresentation, screen
from edge.core.passback import PassbackLedger
from edge.core.settings import PolicySettings
from edge.credentials.formats import gate_verifiers
from edge.credentials.result import VerificationResult
from edge.credentials.seam import CredentialVerifiers
from edge.credentials.trust.trustlist import Denylist, TrustList
from edge.reasons import Reason
from tests.test_codes_support import NOW, TrustWorld, make_issuer

CORE = Path(__file__).resolve().parents[1] / "edge" / "core"


class _Recorder:
    """A format that records what it was asked to verify."""

    format = "test"
    prefix = "TST1:"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def verify(
        self, text: str, trust: TrustList, denylist: Denylist | None, now: float, skew_s: int
    ) -> VerificationResult:
        self.seen.append(text)
        return VerificationResult(valid=True, colour="green", format="test", code_id=b"x")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("HC2:NCF", "unsupported"),
        ("HCN9:ABC", "unsupported"),
        ("HL1:ABC", "unsupported"),
        ("hello", "malformed"),
        ("", "malformed"),
        ("TST1" + "A" * 9000, "malformed"),
    ],
)
def test_unknown_prefixes_are_refused(text: str, reason: str) -> None:
    recorder = _Recorder()
    result = CredentialVerifiers([recorder]).verify(text, TrustList.empty(), None, NOW, 30)
    assert (result.valid, result.reason) == (False, reason)
    assert recorder.seen == []


def test_the_prefix_chooses_the_format() -> None:
    recorder = _Recorder()
    verifiers = CredentialVerifiers([recorder])
    assert verifiers.verify("TST1:abc", TrustList.empty(), None, NOW, 30).format == "test"
    assert recorder.seen == ["TST1:abc"]


def test_hcn1_is_one_provider_of_the_gate() -> None:
    issuer = make_issuer("CN-150000", "ES256")
    trust = TrustWorld().trust_list([issuer])
    text = issue_code("CN-150000", issuer.pem, "green", NOW)
    result = gate_verifiers().verify(text, trust, None, NOW, 30)
    assert result.valid and result.format == "hcn1" and result.admissible
    assert "hcn1" in gate_verifiers().formats


def test_code_id_hash_depends_on_the_format() -> None:
    one = VerificationResult(valid=True, colour="green", code_id=b"\x01" * 16)
    other = replace(one, format="dcc")
    assert one.code_id_hash is not None and other.code_id_hash is not None
    assert one.code_id_hash != other.code_id_hash
    assert one.identity != other.identity


def test_a_refusal_is_the_deny_reason() -> None:
    refused = VerificationResult(
        valid=True, colour="red", format="dcc", code_id=b"c", refusal=Reason.DCC_TEST_TOO_OLD
    )
    reasons = screen(
        ScanPresentation(refused, "camera"), (), PolicySettings(), PassbackLedger(300.0), 0.0
    )
    assert reasons == ("dcc_test_too_old",)
    assert not refused.admissible


def test_the_core_imports_no_credential_provider() -> None:
    allowed = {"edge.credentials.result", "edge.credentials.binding"}
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith(("edge.codes", "edge.credentials")):
                    assert name in allowed, f"{path.name} imports {name}"
