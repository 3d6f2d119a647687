"""Small tools of `gate-central` a technician expects: --version, `trust show --at` in ISO 8601,
and `platform app --new-secret`."""

from __future__ import annotations

import datetime
import json
import stat
from pathlib import Path

import pytest

from central.cli import main as central
from central.platform.store import PlatformStore
from edge import __version__
from edge.sim.credentials import SimCredentials

NOW = 1_790_000_000.0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        central(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"gate-central {__version__}"


def test_trust_show_at_takes_iso_8601_like_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SimCredentials.generate().write(tmp_path, NOW)
    show = ["trust", "show", "--root", str(tmp_path / "trust-root.pub.pem")]
    iso = datetime.datetime.fromtimestamp(NOW, datetime.UTC).isoformat().replace("+00:00", "Z")
    assert central([*show, "--at", iso, str(tmp_path / "trust-list.json")]) == 0
    by_iso = json.loads(capsys.readouterr().out)
    assert central([*show, "--at", str(NOW), str(tmp_path / "trust-list.json")]) == 0
    assert json.loads(capsys.readouterr().out) == by_iso
    with pytest.raises(SystemExit):
        central([*show, "--at", "next tuesday", str(tmp_path / "trust-list.json")])
    assert "not an epoch or ISO 8601 time" in capsys.readouterr().err


def test_platform_app_new_secret_writes_a_strong_private_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, secret = tmp_path / "platform.db", tmp_path / "operator-1.secret"
    app = ["platform", "app", "--db", str(db), "--app-id", "operator-1"]
    assert central([*app, "--secret-file", str(secret), "--new-secret"]) == 0
    out = capsys.readouterr().out
    assert "install it on each gate" in out and "registered" in out
    text = secret.read_text().strip()
    assert len(text) >= 43 and stat.S_IMODE(secret.stat().st_mode) == 0o600
    store = PlatformStore(str(db))
    try:
        assert store.app_secret("operator-1") == text.encode()
    finally:
        store.close()
    assert central([*app, "--secret-file", str(secret), "--new-secret"]) == 2
    assert "exists" in capsys.readouterr().err
    assert secret.read_text().strip() == text  # never replaced
