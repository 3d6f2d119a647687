"""The keys, trust and issue commands of gate-central, and the gate's verify command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from central.cli import main as central
from edge.cli import main
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.trustlist import parse_trust_list
from tests.test_codes_support import NOW


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    for name, alg in (("root", "EdDSA"), ("nm", "ES256"), ("bj", "EdDSA"), ("nm2", "EdDSA")):
        assert central(["keys", "generate", "--alg", alg, "--out", str(tmp_path / name)]) == 0
    at = str(NOW - 100)
    assert central(["trust", "build", "--root-key", str(tmp_path / "root.key.pem"),
                 "--issuer", f"CN-150000={tmp_path / 'nm.pub.pem'}",
                 "--issuer", f"CN-150000={tmp_path / 'nm2.pub.pem'}",
                 "--issuer", f"CN-110000={tmp_path / 'bj.pub.pem'}",
                 "--version", "1", "--valid-days", "2", "--at", at,
                 "--out", str(tmp_path / "trust.json")]) == 0  # fmt: skip
    return tmp_path


def issue(keys: Path, capsys: pytest.CaptureFixture[str], *extra: str, key: str = "nm") -> str:
    capsys.readouterr()
    args = ["issue", "--issuer", "CN-150000", "--key", str(keys / f"{key}.key.pem"), *extra]
    assert central([*args, "--at", str(NOW)]) == 0
    return capsys.readouterr().out.strip()


def verify(
    keys: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    trust, root = str(keys / "trust.json"), str(keys / "root.pub.pem")
    code = main(["verify", "--trust", trust, "--root", root, "--at", str(NOW + 10), *extra])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else {})


def test_keys_generate_writes_pkcs8_and_spki(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert central(["keys", "generate", "--alg", "ES256", "--out", str(tmp_path / "k")]) == 0
    assert (tmp_path / "k.key.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "k.pub.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert (tmp_path / "k.key.pem").stat().st_mode & 0o077 == 0
    assert "kid=" in capsys.readouterr().out
    assert central(["keys", "generate", "--alg", "ES256", "--out", str(tmp_path / "k")]) == 2


def test_issue_and_verify_round_trip(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("nm", "nm2"):
        text = issue(keys, capsys, "--colour", "yellow", "--document", "X1", key=key)
        code, result = verify(keys, capsys, text)
        assert code == 1  # valid, but a yellow code is not admitted
        assert result["valid"] is True and result["reason"] is None
        assert result["admit"] is False and result["deny_reason"] == "colour_yellow"
        assert result["colour"] == "yellow" and result["issuer"] == "CN-150000"
        assert result["expires_at"] == NOW + 300
        assert isinstance(result["code_id"], str) and len(result["code_id"]) == 32
        assert list(result) == [
            "valid",
            "reason",
            "colour",
            "issuer",
            "code_id",
            "expires_at",
            "format",
            "certificate_type",
            "refusal",
            "admit",
            "deny_reason",
        ]
        assert result["format"] == "hcn1" and result["certificate_type"] is None


def test_verify_reads_stdin(
    keys: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = issue(keys, capsys, "--colour", "red")
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\n"))
    code, result = verify(keys, capsys, "-")
    assert code == 1 and result["colour"] == "red" and result["deny_reason"] == "colour_red"


def test_verify_invalid_exits_1(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = verify(keys, capsys, "HCN1:GARBAGE")
    assert code == 1
    empty = dict.fromkeys(("valid", "reason", "colour", "issuer", "code_id", "expires_at"))
    empty |= {"format": "hcn1", "certificate_type": None, "refusal": None}
    assert result == empty | {
        "valid": False,
        "reason": "malformed",
        "admit": False,
        "deny_reason": "malformed",
    }
    cross = issue(keys, capsys, "--colour", "green", key="bj")
    assert verify(keys, capsys, cross)[1]["reason"] == "unknown_key"
    short = issue(keys, capsys, "--colour", "green", "--ttl", "5")
    assert verify(keys, capsys, "--skew", "0", short)[1]["reason"] == "expired"
    assert verify(keys, capsys, short)[1]["reason"] is None  # within the 30 s default skew


def test_verify_trust_errors_exit_2(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = issue(keys, capsys, "--colour", "green")
    assert (
        main(
            [
                "verify",
                "--trust",
                str(keys / "missing.json"),
                "--root",
                str(keys / "root.pub.pem"),
                text,
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "verify",
                "--trust",
                str(keys / "trust.json"),
                "--root",
                str(keys / "bj.pub.pem"),
                text,
            ]
        )
        == 2
    )
    tampered = keys / "tampered.json"
    tampered.write_bytes(
        (keys / "trust.json").read_bytes().replace(b'"version\\":1', b'"version\\":7')
    )
    assert (
        main(["verify", "--trust", str(tampered), "--root", str(keys / "root.pub.pem"), text]) == 2
    )
    assert "trust-root" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["verify", "--root", str(keys / "root.pub.pem")])
    assert usage.value.code == 2


def test_denylist_revokes(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = issue(keys, capsys, "--colour", "green")
    code_id = verify(keys, capsys, text)[1]["code_id"]
    assert isinstance(code_id, str)
    deny = keys / "deny.json"
    assert central(["trust", "deny", "--root-key", str(keys / "root.key.pem"), "--code-id", code_id,
                 "--version", "1", "--at", str(NOW), "--out", str(deny)]) == 0  # fmt: skip
    code, result = verify(keys, capsys, "--denylist", str(deny), text)
    assert code == 1 and result["reason"] == "revoked"
    assert central(["trust", "deny", "--root-key", str(keys / "root.key.pem"), "--code-id", "zz",
                 "--version", "2", "--out", str(deny)]) == 2  # fmt: skip


def test_trust_build_refuses_a_non_ed25519_root(keys: Path) -> None:
    assert central(["trust", "build", "--root-key", str(keys / "nm.key.pem"),
                 "--issuer", f"CN-150000={keys / 'nm.pub.pem'}", "--version", "1",
                 "--out", str(keys / "x.json")]) == 2  # fmt: skip
    root_key, out = str(keys / "root.key.pem"), str(keys / "x.json")
    assert central(["trust", "build", "--root-key", root_key, "--issuer", "CN-150000",
                 "--version", "1", "--out", out]) == 2  # fmt: skip


def test_issue_png_decodes_back_to_the_text(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = keys / "code.png"
    text = issue(keys, capsys, "--colour", "green", "--png", str(png))
    cv2 = pytest.importorskip("cv2")
    zxingcpp = pytest.importorskip("zxingcpp")
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert [barcode.text for barcode in zxingcpp.read_barcodes(image)] == [text]


def test_verify_reports_not_yet_valid_and_expired_for_a_fresh_list(
    keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, trust = keys / "root.key.pem", keys / "fresh.json"
    assert (
        central(
            [
                "trust",
                "build",
                "--root-key",
                str(root),
                "--issuer",
                f"CN-150000={keys / 'nm.pub.pem'}",
                "--version",
                "2",
                "--out",
                str(trust),
            ]
        )
        == 0
    )  # fmt: skip  (built now, default key window)
    capsys.readouterr()
    assert (
        central(
            [
                "issue",
                "--issuer",
                "CN-150000",
                "--key",
                str(keys / "nm.key.pem"),
                "--colour",
                "green",
            ]
        )
        == 0
    )  # fmt: skip  (issued now)
    text = capsys.readouterr().out.strip()

    def verify_at(at: float) -> tuple[int, object]:
        args = ["verify", "--trust", str(trust), "--root", str(keys / "root.pub.pem")]
        code = main([*args, "--at", str(at), text])
        return code, json.loads(capsys.readouterr().out)["reason"]

    code = main(["verify", "--trust", str(trust), "--root", str(keys / "root.pub.pem"), text])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and isinstance(result["expires_at"], int)
    exp = result["expires_at"]
    iat = exp - 300
    assert verify_at(iat - 100) == (1, "not_yet_valid")
    assert verify_at(exp + 30 + 1) == (1, "expired")
    assert verify_at(exp + 30) == (0, None)


def test_trust_build_keys_start_a_day_before_the_list(
    keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = keys / "root.key.pem"
    root_public = load_root_public_key((keys / "root.pub.pem").read_bytes())
    trust = parse_trust_list((keys / "trust.json").read_bytes(), root_public)
    assert {key.not_before for key in trust.keys.values()} == {NOW - 100 - 86_400}
    # A list rebuilt after a code was issued still accepts that code.
    assert central(["trust", "build", "--root-key", str(root), "--issuer",
                 f"CN-150000={keys / 'nm.pub.pem'}", "--version", "2", "--at", str(NOW + 200),
                 "--out", str(keys / "trust.json")]) == 0  # fmt: skip
    text = issue(keys, capsys, "--colour", "green")  # issued at NOW, before the rebuild
    code, result = verify(keys, capsys, text)
    assert code == 0 and result["valid"] is True
