"""One credential, one identity, whichever path judged it; input the API cannot carry is refused
on the gate; answers caused by the request's content never count against the platform; ID-card
references cannot be matched without the gate's own key."""

from __future__ import annotations

import hashlib
import hmac
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.app.config import Config, parse_config
from edge.app.verification import build_verifier, platform_checker
from edge.clock import SystemClock
from edge.core.passback import PassbackLedger
from edge.credentials.common.base45 import b45decode, b45encode
from edge.credentials.result import VerificationResult
from edge.platform.client import PlatformClient
from edge.platform.secret import REFERENCE_KEY_FILE
from edge.platform.verifier import CredentialChecker
from edge.reasons import Reason
from edge.sim.credentials import SimCredentials
from edge.storage.trust_store import TrustStore
from edge.wire.platform import MAX_VALUE_CHARS
from tests.gate_support import GateConfig
from tests.independent_platform import Behaviour, IndependentPlatform
from tests.platform_support import APP_ID, SECRET, resident_id, settings

HOLDER = resident_id("11010519491231002")


@pytest.fixture
def independent() -> Iterator[IndependentPlatform]:
    platform = IndependentPlatform({APP_ID: SECRET}).start()
    yield platform
    platform.stop()


class Gate:
    """A trust store composed as the gate composes it, online for HCN1 codes (the demo's online
    gate: code_prefixes = ["HCN1:"], fallback = "offline")."""

    def __init__(self, tmp: Path, url: str, creds: SimCredentials | None = None) -> None:
        self.creds = creds or SimCredentials.generate()
        clock = SystemClock()
        root = self.creds.write(tmp, clock.now())
        config = settings(url, timeout_ms=500, code_prefixes=("HCN1:", "PLT1:"))
        self.client = PlatformClient(config, SECRET, "t/g", clock)
        self.checker = CredentialChecker(config, self.client, b"k" * 32)
        self.store = TrustStore(
            root.read_bytes(), tmp / "trust-list.json", tmp / "denylist.json", clock
        )
        self.store.load()
        self.verifier = build_verifier(
            self.store.snapshot, clock, 30, platform=self.checker, prefixes=("HCN1:", "PLT1:")
        )


def _not_offline(text: str) -> VerificationResult:
    return VerificationResult.invalid(Reason.UNSUPPORTED)


def _reencoded(code: str) -> str:
    """The same signed code with another zlib level: another QR text, the same credential."""
    data = zlib.decompress(b45decode(code.removeprefix("HCN1:")))
    again = "HCN1:" + b45encode(zlib.compress(data, 1))
    assert again != code
    return again


@pytest.mark.parametrize("online_first", [True, False], ids=["online-offline", "offline-online"])
def test_one_code_has_one_identity_online_and_offline(
    tmp_path: Path, independent: IndependentPlatform, online_first: bool
) -> None:
    gate = Gate(tmp_path, independent.url)
    code = gate.creds.issue("green", SystemClock().now())
    independent.tokens[code] = "green"
    online = gate.verifier.verify(code)
    independent.behaviour = Behaviour("http_error")  # the platform stops answering
    offline = gate.verifier.verify(_reencoded(code) if online_first else code)
    assert (online.path, offline.path) == ("online", "offline")
    assert online.valid and offline.valid
    first, second = (online, offline) if online_first else (offline, online)
    ledger = PassbackLedger(window_s=60)
    ledger.record(first.code_key, None, 0.0)
    assert ledger.last_pass(second.code_key, None) == 0.0  # the same code is a passback


def test_a_re_encoded_code_online_is_the_same_credential(
    tmp_path: Path, independent: IndependentPlatform
) -> None:
    gate = Gate(tmp_path, independent.url)
    code = gate.creds.issue("green", SystemClock().now())
    again = _reencoded(code)
    independent.tokens[code] = independent.tokens[again] = "green"
    assert gate.verifier.verify(code).code_key == gate.verifier.verify(again).code_key
    assert gate.verifier.verify(code).path == "online"


def test_an_opaque_token_is_keyed_by_its_normalised_text(
    tmp_path: Path, independent: IndependentPlatform
) -> None:
    gate = Gate(tmp_path, independent.url)
    independent.tokens["PLT1:token-1"] = "green"
    plain = gate.checker.verify_code("PLT1:token-1", _not_offline)
    padded = gate.checker.verify_code(" PLT1:token-1\r\n", _not_offline)
    assert plain.valid and plain.code_key == padded.code_key
    assert [r["cert_value"] for r in independent.requests] == ["PLT1:token-1"] * 2


def test_text_the_api_cannot_carry_is_refused_without_a_request(
    tmp_path: Path, independent: IndependentPlatform
) -> None:
    gate = Gate(tmp_path, independent.url)
    long_text = "PLT1:" + "A" * MAX_VALUE_CHARS
    escaped = "PLT1:" + "\x01" * 3000  # 3,005 characters, but over 16 KiB once JSON-escaped
    for text in (long_text, escaped):
        result = gate.verifier.verify(text)
        assert (result.valid, result.reason) == (False, "malformed")
        assert result.platform_cause is not None and "not sent" in result.platform_cause
    assert independent.requests == []
    assert gate.client.breakers() == {independent.url: "closed"}


@pytest.mark.parametrize("status", [400, 413, 422])
def test_answers_caused_by_the_request_never_open_the_breaker(
    independent: IndependentPlatform, status: int
) -> None:
    independent.behaviour = Behaviour("http_error", http_status=status)
    config = settings(independent.url)
    client = PlatformClient(config, SECRET, "t/g", SystemClock(), breaker_threshold=3)
    for n in range(5):
        outcome = client.check("qr_code", f"PLT1:visitor-{n}")
        assert (outcome.failure, outcome.cause) == ("http_status", f"HTTP {status}")
    assert len(independent.requests) == 5  # one request each: no retry, no breaker
    assert client.breakers() == {independent.url: "closed"}
    independent.behaviour = Behaviour("http_error", http_status=503)
    for n in range(3):
        client.check("qr_code", f"PLT1:other-{n}")
    assert client.breakers() == {independent.url: "open"}  # a platform fault still counts


def _gate_config(gate_config: GateConfig, state: Path, url: str) -> Config:
    state.mkdir(parents=True, exist_ok=True)
    (state / "platform.secret").write_bytes(SECRET)
    return parse_config(
        gate_config(
            state=state,
            root=state / "root.pub.pem",
            platform={"url": url, "app_id": APP_ID, "app_secret_file": "platform.secret"},
        )
    )


def test_an_id_card_reference_cannot_be_matched_without_the_gates_key(
    tmp_path: Path, independent: IndependentPlatform, gate_config: GateConfig
) -> None:
    independent.holders[HOLDER] = "green"

    def reference(state: Path) -> str | None:
        checker = platform_checker(_gate_config(gate_config, state, independent.url), SystemClock())
        return checker.verify_id(HOLDER).code_id_hash

    one, after_restart = reference(tmp_path / "a"), reference(tmp_path / "a")
    other_gate = reference(tmp_path / "b")
    assert one is not None and one == after_restart != other_gate
    key_file = tmp_path / "a" / REFERENCE_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    # Whoever holds the app secret (every gate of the operator) cannot recompute it.
    shared = hashlib.sha256(b"gate-edge credential key|" + SECRET).digest()
    guess = hmac.new(shared, f"id_card|{HOLDER}".encode(), hashlib.sha256).digest()[:16]
    assert hashlib.sha256(b"PLATFORM-event|" + guess).hexdigest()[:32] != one
