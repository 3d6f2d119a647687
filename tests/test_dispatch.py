"""The gate's one verifier: it reads an immutable trust snapshot; prefixes go to the platform."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from central.keys import public_key_pem
from edge.app.verification import build_verifier
from edge.clock import FakeClock
from edge.credentials.trust.snapshot import TrustSnapshot
from edge.platform.settings import PlatformSettings
from edge.platform.verifier import CredentialChecker
from edge.storage.trust_store import TrustStore
from tests.test_codes_support import NOW, TrustWorld, make_issuer, signed_text


def test_a_snapshot_cannot_change_under_a_reader() -> None:
    snapshot = TrustSnapshot()
    assert snapshot.trust_list.version == 0 and snapshot.denylist is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.denylist = None  # type: ignore[misc]


def test_the_verifier_reads_the_snapshot_in_force_at_each_call(tmp_path: Path) -> None:
    world, issuer, clock = TrustWorld(), make_issuer("CN-150000", "ES256"), FakeClock(NOW)
    store = TrustStore(
        public_key_pem(world.root.public_key()), tmp_path / "t.json", tmp_path / "d.json", clock
    )
    verifier = build_verifier(store.snapshot, clock, 30)
    text = signed_text(issuer)
    before = store.snapshot()
    assert verifier.verify(text).reason == "unknown_issuer"
    store.update_trust_list(world.document([issuer]))
    assert verifier.verify(text).valid
    assert before.trust_list.version == 0  # the reader's snapshot stayed what it was
    assert build_verifier(lambda: before, clock, 30).verify(text).reason == "unknown_issuer"


def test_without_a_platform_client_prefixed_codes_are_verified_offline(tmp_path: Path) -> None:
    world, issuer, clock = TrustWorld(), make_issuer("CN-150000", "EdDSA"), FakeClock(NOW)
    snapshot = TrustSnapshot(world.trust_list([issuer]))
    checker = CredentialChecker(PlatformSettings(), None, b"")
    verifier = build_verifier(lambda: snapshot, clock, 30, platform=checker, prefixes=("HCN1:",))
    assert verifier.platform is None
    result = verifier.verify(signed_text(issuer))
    assert (result.valid, result.format, result.path) == (True, "hcn1", "offline")
