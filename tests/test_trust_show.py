"""`gate-central trust show`: a technician reads what a gate's lists say, only after the check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from central.cli import main as central
from central.keys import public_key_pem
from edge.sim.credentials import PRIMARY_ISSUER, SECOND_ISSUER, SimCredentials

NOW = 1_795_000_000


@pytest.fixture
def lists(tmp_path: Path) -> tuple[Path, SimCredentials]:
    creds = SimCredentials.generate()
    creds.write(tmp_path, NOW, revoked=[bytes(16)])
    return tmp_path, creds


def test_shows_issuers_and_keys(
    lists: tuple[Path, SimCredentials], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = lists
    root = folder / "trust-root.pub.pem"
    assert (
        central(
            [
                "trust",
                "show",
                "--root",
                str(root),
                "--at",
                str(NOW),
                str(folder / "trust-list.json"),
            ]
        )
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert shown["kind"] == "trust_list"
    assert shown["version"] == 1
    assert set(shown["issuers"]) == {PRIMARY_ISSUER, SECOND_ISSUER}
    assert shown["issuers"][SECOND_ISSUER][0]["alg"] == "ES256"
    assert shown["issuers"][PRIMARY_ISSUER][0]["alg"] == "EdDSA"


def test_shows_a_denylist_and_flags_expiry(
    lists: tuple[Path, SimCredentials], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = lists
    root = folder / "trust-root.pub.pem"
    later = str(NOW + 365 * 86400)
    assert (
        central(
            ["trust", "show", "--root", str(root), "--at", later, str(folder / "denylist.json")]
        )
        == 1
    )
    shown = json.loads(capsys.readouterr().out)
    assert (shown["kind"], shown["code_ids"], shown["expired"]) == ("denylist", 1, True)


def test_refuses_a_list_signed_by_another_root(
    lists: tuple[Path, SimCredentials], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = lists
    other = SimCredentials.generate()
    wrong_root = tmp_path / "other-root.pub.pem"
    wrong_root.write_bytes(public_key_pem(other.root.public_key()))
    assert (
        central(["trust", "show", "--root", str(wrong_root), str(folder / "trust-list.json")]) == 2
    )
    assert capsys.readouterr().out == ""
