"""One code, several valid QR texts: the scan loop and anti-passback count them as one code."""

from __future__ import annotations

import zlib
from pathlib import Path

from edge.clock import FakeClock, SystemClock
from edge.core.decision import DecisionInput, ScanPresentation, decide
from edge.core.passback import PassbackLedger
from edge.core.settings import PolicySettings
from edge.credentials.common import cbor
from edge.credentials.common.base45 import b45encode
from edge.credentials.hcn1.envelope import PREFIX, text_to_cose
from edge.scan.loop import ScanLoop
from edge.scan.settings import ScanSettings
from edge.sim.credentials import SECOND_ISSUER, SimCredentials
from tests.trust_support import VerifyingStore

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _wrap(message: cbor.CborValue, level: int) -> str:
    return PREFIX + b45encode(zlib.compress(cbor.dumps(message), level))


def reencodings(text: str) -> list[str]:
    """Other valid texts of the same ES256 code, none of them re-signed: another zlib level,
    the other ECDSA s, an extra unprotected header entry, no COSE tag."""
    tagged = cbor.loads(text_to_cose(text), allowed_tags=frozenset({18}))
    assert isinstance(tagged, cbor.Tagged) and isinstance(tagged.value, list)
    protected, unprotected, payload, signature = tagged.value
    assert isinstance(signature, bytes) and isinstance(unprotected, dict)
    r, s = signature[:32], int.from_bytes(signature[32:], "big")
    other_s = r + (P256_ORDER - s).to_bytes(32, "big")
    return [
        _wrap(tagged, 1),
        _wrap(cbor.Tagged(18, [protected, unprotected, payload, other_s]), 9),
        _wrap(cbor.Tagged(18, [protected, {**unprotected, 99: 1}, payload, signature]), 9),
        _wrap(tagged.value, 6),
    ]


class Lines:
    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def read_line(self, timeout_s: float) -> str | None:
        return self.texts.pop(0) if self.texts else None

    def close(self) -> None:
        pass


def _store(tmp_path: Path) -> tuple[SimCredentials, VerifyingStore]:
    creds = SimCredentials.generate()
    root = creds.write(tmp_path, SystemClock().now())
    store = VerifyingStore(
        root.read_bytes(),
        tmp_path / "trust-list.json",
        tmp_path / "denylist.json",
        SystemClock(),
        30,
    )
    store.load()
    return creds, store


def test_every_reencoding_verifies_as_the_same_code(tmp_path: Path) -> None:
    creds, store = _store(tmp_path)
    text = creds.issue("green", SystemClock().now(), issuer=SECOND_ISSUER)
    original = store.verify(text)
    assert original.valid
    others = reencodings(text)
    assert len(set(others) | {text}) == len(others) + 1
    for other in others:
        result = store.verify(other)
        assert result.valid, result.reason
        assert result.code_key == original.code_key


def test_a_reencoded_code_is_debounced_as_the_same_code(tmp_path: Path) -> None:
    creds, store = _store(tmp_path)
    now = SystemClock().now()
    text = creds.issue("green", now, issuer=SECOND_ISSUER)
    second = creds.issue("green", now, issuer=SECOND_ISSUER)
    lines = Lines([text, *reencodings(text), second, "not a code", "not a code"])
    loop = ScanLoop(store.verify, ScanSettings(debounce_s=3.0), FakeClock(), lines=lines)
    reported = []
    while lines.texts:
        reported += loop.serial_step(0.0)
    assert [r.text for r in reported] == [text, second, "not a code"]
    assert loop.stats()["duplicates"] == 5


def test_a_reencoded_code_is_refused_by_anti_passback(tmp_path: Path) -> None:
    creds, store = _store(tmp_path)
    text = creds.issue("green", SystemClock().now(), issuer=SECOND_ISSUER)
    ledger = PassbackLedger(300.0)
    first = store.verify(text)
    ledger.record(first.code_key, first.subject_binding, 100.0)
    for other in reencodings(text):
        request = DecisionInput(ScanPresentation(store.verify(other), "camera"), None)
        assert decide(request, PolicySettings(), ledger, 110.0).reasons == ("already_used",)
