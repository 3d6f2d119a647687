"""TrustStore: signed updates, rollback and expiry refusal, persistence and safe swaps."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from central.keys import public_key_pem
from edge.clock import FakeClock
from edge.credentials.trust.trustlist import build_denylist
from edge.errors import TrustListError
from edge.storage.trust_store import TrustStore
from tests.test_codes_support import DAY, NOW, TrustWorld, make_issuer, signed_text
from tests.trust_support import VerifyingStore


@pytest.fixture
def world() -> TrustWorld:
    return TrustWorld()


def make_store(world: TrustWorld, tmp_path: Path, clock: FakeClock | None = None) -> VerifyingStore:
    return VerifyingStore(
        public_key_pem(world.root.public_key()),
        tmp_path / "trust.json",
        tmp_path / "deny.json",
        clock or FakeClock(NOW),
    )


def test_empty_store_trusts_nobody(world: TrustWorld, tmp_path: Path) -> None:
    store = make_store(world, tmp_path)
    store.load()
    issuer = make_issuer("CN-150000", "EdDSA")
    assert store.verify(signed_text(issuer)).reason == "unknown_issuer"
    assert store.verify("nonsense").reason == "malformed"
    assert store.health(7).trust_list.version is None and store.problems == []


def test_update_persists_and_reloads(world: TrustWorld, tmp_path: Path) -> None:
    issuer = make_issuer("CN-150000", "ES256")
    store = make_store(world, tmp_path)
    assert store.update_trust_list(world.document([issuer], version=3)) == 3
    assert store.verify(signed_text(issuer)).valid
    assert not list(tmp_path.glob("*.tmp"))
    fresh = make_store(world, tmp_path)
    fresh.load()
    assert fresh.verify(signed_text(issuer)).valid
    trust = fresh.snapshot().trust_list
    assert (trust.version, len(trust.issuers), len(trust.keys)) == (3, 1, 1)


def test_rollback_and_replay_refused_last_good_kept(world: TrustWorld, tmp_path: Path) -> None:
    old_key = make_issuer("CN-150000", "ES256")
    new_key = make_issuer("CN-150000", "EdDSA")
    store = make_store(world, tmp_path)
    v2 = world.document([old_key, new_key], version=2)
    assert store.update_trust_list(v2) == 2
    assert store.update_trust_list(v2) == 2  # the same document again is a harmless no-op
    with pytest.raises(TrustListError, match="not newer"):
        store.update_trust_list(world.document([old_key], version=1))
    with pytest.raises(TrustListError, match="not newer"):
        store.update_trust_list(world.document([new_key], version=2))
    assert store.verify(signed_text(old_key)).valid
    assert (tmp_path / "trust.json").read_bytes() == v2
    assert store.update_trust_list(world.document([new_key], version=3)) == 3
    assert store.verify(signed_text(old_key)).reason == "unknown_key"
    assert store.verify(signed_text(new_key)).valid


def test_unsigned_wrongly_signed_or_expired_lists_refused(
    world: TrustWorld, tmp_path: Path
) -> None:
    issuer = make_issuer("CN-150000", "EdDSA")
    store = make_store(world, tmp_path)
    store.update_trust_list(world.document([issuer], version=1))
    impostor = TrustWorld()
    cases = {
        "trust-root": impostor.document([issuer], version=9),
        "expired": world.document([issuer], version=9, issued_at=NOW - DAY, expires_at=NOW - 1),
        "payload and signature": b'{"payload":"{}"}\n',
        "JSON": b"\x00\xff",
    }
    for message, document in cases.items():
        with pytest.raises(TrustListError, match=message):
            store.update_trust_list(document)
    assert store.health(7).trust_list.version == 1
    assert store.verify(signed_text(issuer)).valid


def test_denylist_updates(world: TrustWorld, tmp_path: Path) -> None:
    issuer = make_issuer("CN-150000", "ES256")
    store = make_store(world, tmp_path)
    store.update_trust_list(world.document([issuer]))
    code_id = bytes(range(16))
    deny = build_denylist(world.root, [code_id], [], version=4, issued_at=NOW, expires_at=NOW + DAY)
    assert store.update_denylist(deny) == 4
    assert store.verify(signed_text(issuer)).reason == "revoked"
    with pytest.raises(TrustListError, match="not newer"):
        store.update_denylist(
            build_denylist(world.root, [], [], version=3, issued_at=NOW, expires_at=NOW + DAY)
        )
    with pytest.raises(TrustListError, match="hcn1-denylist"):
        store.update_denylist(world.document([issuer], version=10))
    fresh = make_store(world, tmp_path)
    fresh.load()
    assert fresh.verify(signed_text(issuer)).reason == "revoked"
    assert fresh.health(7).denylist.version == 4


def test_expiry_while_loaded_fails_closed(world: TrustWorld, tmp_path: Path) -> None:
    issuer = make_issuer("CN-150000", "EdDSA")
    clock = FakeClock(NOW)
    store = make_store(world, tmp_path, clock)
    store.update_trust_list(world.document([issuer], expires_at=NOW + 60))
    assert store.verify(signed_text(issuer)).valid
    clock.advance(61)
    assert store.verify(signed_text(issuer)).reason == "trust_list_expired"
    assert "expired at" in str(store.health(7).trust_list.problem)
    reloaded = make_store(world, tmp_path, clock)
    reloaded.load()  # an expired persisted list still loads, so the gate can say why it refuses
    assert reloaded.verify(signed_text(issuer)).reason == "trust_list_expired"


def test_bad_persisted_files_are_reported_and_ignored(world: TrustWorld, tmp_path: Path) -> None:
    issuer = make_issuer("CN-150000", "EdDSA")
    store = make_store(world, tmp_path)
    store.update_trust_list(world.document([issuer], version=2))
    (tmp_path / "deny.json").write_bytes(b"{not json")
    trust_bytes = (tmp_path / "trust.json").read_bytes()
    (tmp_path / "trust.json").write_bytes(trust_bytes.replace(b"CN-150000", b"CN-150001"))
    store.load()
    assert len(store.problems) == 2
    assert store.health(7).trust_list.version == 2  # what was in force stays in force
    fresh = make_store(world, tmp_path)
    fresh.load()
    assert fresh.verify(signed_text(issuer)).reason == "unknown_issuer"
    assert any("trust.json" in problem for problem in fresh.problems)


def test_root_key_must_be_ed25519(tmp_path: Path) -> None:
    issuer = make_issuer("CN-150000", "ES256")
    with pytest.raises(TrustListError, match="Ed25519"):
        TrustStore(
            public_key_pem(issuer.key.public_key()), tmp_path / "t", tmp_path / "d", FakeClock()
        )


def test_concurrent_verification_during_updates(world: TrustWorld, tmp_path: Path) -> None:
    issuer = make_issuer("CN-150000", "EdDSA")
    store = make_store(world, tmp_path)
    store.update_trust_list(world.document([issuer], version=1))
    text = signed_text(issuer)
    failures: list[object] = []

    def reader() -> None:
        for _ in range(300):
            result = store.verify(text)
            if not result.valid:
                failures.append(result.reason)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for version in range(2, 12):
        store.update_trust_list(world.document([issuer], version=version))
    for thread in threads:
        thread.join()
    assert failures == []
    assert store.health(7).trust_list.version == 11


def test_disk_rollback_refused_on_load_last_good_kept(world: TrustWorld, tmp_path: Path) -> None:
    old_key = make_issuer("CN-150000", "ES256")
    new_key = make_issuer("CN-150000", "EdDSA")
    store = make_store(world, tmp_path)
    v1 = world.document([old_key], version=1)
    assert store.update_trust_list(world.document([new_key], version=2)) == 2
    (tmp_path / "trust.json").write_bytes(v1)  # an older, validly signed list copied in
    store.load()
    assert store.health(7).trust_list.version == 2
    assert store.verify(signed_text(new_key)).valid
    assert store.verify(signed_text(old_key)).reason == "unknown_key"
    assert len(store.problems) == 1
    assert "trust.json: trust list version 1 refused: older than version 2" in store.problems[0]


def test_high_water_mark_survives_a_restart(world: TrustWorld, tmp_path: Path) -> None:
    old_key = make_issuer("CN-150000", "ES256")
    new_key = make_issuer("CN-150000", "EdDSA")
    store = make_store(world, tmp_path)
    store.update_trust_list(world.document([new_key], version=2))
    deny = build_denylist(world.root, [], [], version=5, issued_at=NOW, expires_at=NOW + DAY)
    store.update_denylist(deny)
    marks = json.loads((tmp_path / "trust-versions.json").read_bytes())
    assert marks == {"trust_list": 2, "denylist": 5}
    (tmp_path / "trust.json").write_bytes(world.document([old_key], version=1))
    (tmp_path / "deny.json").write_bytes(
        build_denylist(world.root, [], [], version=4, issued_at=NOW, expires_at=NOW + DAY)
    )
    restarted = make_store(world, tmp_path)
    restarted.load()
    health = restarted.health(7)
    assert health.trust_list.version is None and health.denylist.version is None
    assert restarted.verify(signed_text(old_key)).reason == "unknown_issuer"  # fails closed
    assert len(restarted.problems) == 2
    assert all("(rollback)" in problem for problem in restarted.problems)
    # An update after the restart is held to the same mark, even with nothing loaded.
    fresh = make_store(world, tmp_path)
    with pytest.raises(TrustListError, match="rollback"):
        fresh.update_trust_list(world.document([old_key], version=1))
    assert fresh.update_trust_list(world.document([new_key], version=2)) == 2
    # The same version re-read from disk (a restart, or a re-signed copy) is fine.
    same_version = world.document([old_key, new_key], version=2)
    (tmp_path / "trust.json").write_bytes(same_version)
    fresh.load()
    assert len(fresh.problems) == 1 and "denylist version 4 refused" in fresh.problems[0]
    assert fresh.verify(signed_text(old_key)).valid


def test_expired_file_on_disk_does_not_replace_a_good_list(
    world: TrustWorld, tmp_path: Path
) -> None:
    issuer = make_issuer("CN-150000", "EdDSA")
    store = make_store(world, tmp_path)
    store.update_trust_list(world.document([issuer], version=1))
    expired = world.document([issuer], version=3, issued_at=NOW - 2 * DAY, expires_at=NOW - 1)
    (tmp_path / "trust.json").write_bytes(expired)
    store.load()
    assert store.health(7).trust_list.version == 1
    assert store.verify(signed_text(issuer)).valid
    assert len(store.problems) == 1 and "version 3 refused: it has expired" in store.problems[0]
    assert json.loads((tmp_path / "trust-versions.json").read_bytes())["trust_list"] == 1
    first_start = make_store(world, tmp_path)  # nothing good to keep: load it, fail closed
    first_start.load()
    assert first_start.verify(signed_text(issuer)).reason == "trust_list_expired"
    assert first_start.problems == []


def test_damaged_mark_file_is_reported_and_rewritten(world: TrustWorld, tmp_path: Path) -> None:
    issuer = make_issuer("CN-150000", "EdDSA")
    (tmp_path / "trust.json").write_bytes(world.document([issuer], version=4))
    (tmp_path / "trust-versions.json").write_bytes(b'{"trust_list": "x"}')
    store = make_store(world, tmp_path)
    store.load()
    assert store.verify(signed_text(issuer)).valid
    assert len(store.problems) == 1 and "trust-versions.json" in store.problems[0]
    assert json.loads((tmp_path / "trust-versions.json").read_bytes()) == {"trust_list": 4}
    assert not list(tmp_path.glob("*.tmp"))
