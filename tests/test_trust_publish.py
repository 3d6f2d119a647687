"""`trust deny` edits the current denylist and never lowers its version; `trust publish`
verifies against the root and publishes retained, never behind the published version."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt import subscribe

from central.cli import main
from central.trust_deny import parse_entry
from edge.credentials.dcc.claims import uci_hash
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.trustlist import parse_denylist
from edge.errors import TrustListError
from tests.broker import Broker

CODE_A, CODE_B = "a6" * 16, "b7" * 16
SUBJECT = "5e" * 32
UVCI = "URN:UVCI:01:DE:ABC/12345#7"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    assert main(["keys", "generate", "--alg", "EdDSA", "--out", str(tmp_path / "root")]) == 0
    return tmp_path / "root"


def _deny(root: Path, out: Path, *args: str) -> int:
    return main(["trust", "deny", "--root-key", f"{root}.key.pem", "--out", str(out), *args])


def _entries(root: Path, path: Path) -> tuple[int, set[bytes], set[bytes]]:
    deny = parse_denylist(
        path.read_bytes(), load_root_public_key(Path(f"{root}.pub.pem").read_bytes())
    )
    revoked = {digest for _kind, digest in deny.dcc_revoked}  # EU revocations, by hash type
    return deny.version, set(deny.code_ids) | revoked, set(deny.subjects)


def _retained(broker: Broker) -> bytes:
    message = subscribe.simple("trust/denylist", port=broker.port, retained=True)  # type: ignore[no-untyped-call]
    return bytes(message.payload)


def test_deny_adds_and_removes_every_kind_and_moves_forward(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v1, v2, v3 = (tmp_path / f"deny-{n}.json" for n in (1, 2, 3))
    assert _deny(root, v1, "--version", "1", "--add", f"code-id={CODE_A}",
                 "--add", f"subject={SUBJECT}", "--code-id", CODE_B) == 0  # fmt: skip
    assert _entries(root, v1) == (1, {bytes.fromhex(CODE_A), bytes.fromhex(CODE_B)},
                                  {bytes.fromhex(SUBJECT)})  # fmt: skip
    assert _deny(root, v2, "--current", str(v1), "--add", f"dcc-ci={UVCI}",
                 "--remove", f"code-id={CODE_A}") == 0  # fmt: skip
    assert _entries(root, v2) == (2, {bytes.fromhex(CODE_B), uci_hash(UVCI)},
                                  {bytes.fromhex(SUBJECT)})  # fmt: skip
    assert _deny(root, v3, "--current", str(v2), "--remove", f"dcc-ci={UVCI}",
                 "--remove", f"subject={SUBJECT}", "--version", "7") == 0  # fmt: skip
    assert _entries(root, v3) == (7, {bytes.fromhex(CODE_B)}, set())
    capsys.readouterr()

    refusals = [
        ("--current", str(v3), "--version", "7"),  # not above the current version
        ("--current", str(v3), "--version", "3"),  # lower
        ("--current", str(v3), "--remove", f"code-id={CODE_A}"),  # not on the list
        ("--current", str(v3), "--add", f"passport={CODE_A}"),  # no such kind
        ("--current", str(v3), "--add", "code-id=abcd"),  # wrong length
        ("--add", f"code-id={CODE_A}"),  # neither --current nor --version
    ]
    for args in refusals:
        assert _deny(root, tmp_path / "x.json", *args) == 2, args
    tampered = tmp_path / "tampered.json"
    document = json.loads(v3.read_text())
    document["payload"] = document["payload"].replace('"version":7', '"version":9')
    tampered.write_text(json.dumps(document))
    assert _deny(root, tmp_path / "x.json", "--current", str(tampered)) == 2
    assert "--current" in capsys.readouterr().err


def test_publish_verifies_and_never_goes_back(
    root: Path, tmp_path: Path, mqtt_broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    v1, v2 = tmp_path / "deny-1.json", tmp_path / "deny-2.json"
    assert _deny(root, v1, "--version", "1", "--add", f"code-id={CODE_A}") == 0
    assert _deny(root, v2, "--current", str(v1), "--add", f"code-id={CODE_B}") == 0
    base = ["trust", "publish", "--broker", mqtt_broker.url, "--root", f"{root}.pub.pem"]
    assert main([*base, str(v2)]) == 0
    assert "denylist version 2" in capsys.readouterr().out
    assert _retained(mqtt_broker) == v2.read_bytes()

    assert main([*base, str(v1)]) == 2  # older than the published one
    assert "older than the published version 2" in capsys.readouterr().err
    expired = tmp_path / "expired.json"
    old = str(int(time.time()) - 40 * 86400)
    assert _deny(root, expired, "--version", "3", "--at", old) == 0
    assert main([*base, str(expired)]) == 2
    other = tmp_path / "other"
    assert main(["keys", "generate", "--alg", "EdDSA", "--out", str(other)]) == 0
    assert main([*base[:-1], f"{other}.pub.pem", str(v2)]) == 2  # not signed by this root
    document = json.loads(v2.read_text())
    (tmp_path / "bad.json").write_text(json.dumps({**document, "signature": "AA=="}))
    assert main([*base, str(tmp_path / "bad.json")]) == 2
    capsys.readouterr()
    assert _retained(mqtt_broker) == v2.read_bytes()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_entry_is_parsed_or_refused_clearly(spec: str) -> None:
    try:
        field, value = parse_entry(spec)
    except TrustListError:
        return
    assert (field, len(value)) in (("code_ids", 16), ("subjects", 32))
