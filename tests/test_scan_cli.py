"""`gate-edge scan`: codes read live are verified against trust files, or labelled not verified."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from central.cli import main as central
from edge.cli import main


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """Keys, a trust list valid now, and a folder holding one photographed (PNG) code."""
    for name, alg in (("root", "EdDSA"), ("issuer", "EdDSA"), ("other", "EdDSA")):
        assert central(["keys", "generate", "--alg", alg, "--out", str(tmp_path / name)]) == 0
    now = int(time.time())
    assert central(["trust", "build", "--root-key", str(tmp_path / "root.key.pem"),
                 "--issuer", f"CN-150000={tmp_path / 'issuer.pub.pem'}",
                 "--version", "1", "--valid-days", "2", "--at", str(now - 100),
                 "--out", str(tmp_path / "trust.json")]) == 0  # fmt: skip
    (tmp_path / "frames").mkdir()
    assert central(["issue", "--issuer", "CN-150000", "--key", str(tmp_path / "issuer.key.pem"),
                 "--colour", "green", "--ttl", "600", "--at", str(now),
                 "--png", str(tmp_path / "frames" / "code.png")]) == 0  # fmt: skip
    return tmp_path


def _scan(gate: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    capsys.readouterr()
    source = f"replay:{gate / 'frames'}@20"
    assert main(["scan", "--source", source, "--seconds", "1.0", *extra]) == 0
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_scan_verifies_codes_with_the_given_trust_list(
    gate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust = ["--trust", str(gate / "trust.json"), "--root", str(gate / "root.pub.pem")]
    lines = _scan(gate, capsys, *trust)
    assert len(lines) == 1
    assert lines[0]["verification"] == "valid" and lines[0]["colour"] == "green"
    assert lines[0]["issuer"] == "CN-150000"


def test_scan_without_trust_labels_codes_not_verified_and_gives_no_verdict(
    gate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["scan", "--source", f"replay:{gate / 'frames'}@20", "--seconds", "1.0"]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert len(lines) == 1 and str(lines[0]["text"]).startswith("HC")
    assert lines[0]["verification"] == "not verified"
    assert not {"valid", "reason", "colour", "issuer"} & set(lines[0])
    assert "NOT VERIFIED" in captured.err


def test_scan_shows_an_untrusted_issuer_as_invalid(
    gate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a trust list that does not contain the code's issuer key
    other = gate / "other.json"
    assert central(["trust", "build", "--root-key", str(gate / "root.key.pem"),
                 "--issuer", f"CN-150000={gate / 'other.pub.pem'}",
                 "--version", "2", "--valid-days", "2", "--at", str(int(time.time()) - 100),
                 "--out", str(other)]) == 0  # fmt: skip
    lines = _scan(gate, capsys, "--trust", str(other), "--root", str(gate / "root.pub.pem"))
    assert len(lines) == 1
    assert lines[0]["verification"] == "invalid" and lines[0]["colour"] is None
    assert lines[0]["reason"] in ("unknown_key", "unknown_issuer", "bad_signature")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--root", "root.pub.pem"], "need --trust"),
        (["--trust", "trust.json"], "needs --root"),
        (["--trust", "trust.json", "--root", "other.pub.pem"], "trust-root"),
        (["--trust", "missing.json", "--root", "root.pub.pem"], "cannot read"),
        (["--trust", "trust.json", "--root", "root.pub.pem", "--denylist", "trust.json"], ""),
    ],
)
def test_scan_refuses_bad_trust_options_before_opening_the_source(
    gate: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    paths = [str(gate / o) if not o.startswith("--") else o for o in options]
    # the source does not exist: trust problems must be reported first, as exit status 2
    assert main(["scan", "--source", "replay:/nonexistent", *paths]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gate-edge: ") and message in err and "replay" not in err
