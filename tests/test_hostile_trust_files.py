"""Poisoned trust files: the loader keeps the last good list, the tools exit 2 with one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from central.cli import main as central
from edge.cli import main
from edge.clock import FakeClock
from edge.sim.credentials import SimCredentials
from edge.storage.trust_store import TrustStore
from tests.hostile import FIELD_POISON, trust_documents

POISONED_FILES = {
    "non-ASCII payload": FIELD_POISON["trust/trust-list"],
    "lone surrogate in the payload": FIELD_POISON["trust/denylist"],
    "deep nesting": b"[" * 50_000,
    "garbage": b"\xff\xfe{{{ not json",
}


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lists")
    SimCredentials.generate().write(folder, FakeClock().now())
    return folder


def _one_line_error(err: str) -> bool:
    one_line = err.count("\n") == 1 and "Traceback" not in err
    return one_line and err.startswith(("gate-edge: ", "gate-central: "))


@pytest.mark.parametrize("poison", list(POISONED_FILES.values()), ids=list(POISONED_FILES))
@pytest.mark.parametrize("command", ["verify", "verify-denylist", "show"])
def test_tools_exit_2_with_one_line_on_a_poisoned_file(
    lists: Path, tmp_path: Path, poison: bytes, command: str
) -> None:
    bad = tmp_path / "trust-list.json"
    bad.write_bytes(poison)
    root = str(lists / "trust-root.pub.pem")
    good = str(lists / "trust-list.json")
    tool, *args = {
        "verify": ["edge", "verify", "--trust", str(bad), "--root", root, "HC1:anything"],
        "verify-denylist": [
            "edge", "verify", "--trust", good, "--denylist", str(bad), "--root", root, "x"
        ],
        "show": ["central", "trust", "show", "--root", root, str(bad)],
    }[command]  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", tool, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert _one_line_error(run.stderr), run.stderr
    assert run.stdout == ""


def test_tools_refuse_arbitrary_trust_files(
    lists: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "trust-list.json"
    root = str(lists / "trust-root.pub.pem")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(poison=trust_documents)
    def refused(poison: bytes) -> None:
        bad.write_bytes(poison)
        for tool, args in (
            (main, ["verify", "--trust", str(bad), "--root", root, "HC1:anything"]),
            (central, ["trust", "show", "--root", root, str(bad)]),
        ):
            capsys.readouterr()
            assert tool(args) == 2
            captured = capsys.readouterr()
            assert _one_line_error(captured.err), captured.err

    refused()


def test_the_loader_keeps_the_last_good_lists_whatever_the_files_hold(
    lists: Path, tmp_path: Path
) -> None:
    good_trust = (lists / "trust-list.json").read_bytes()
    good_deny = (lists / "denylist.json").read_bytes()
    trust_path, deny_path = tmp_path / "trust-list.json", tmp_path / "denylist.json"
    trust_path.write_bytes(good_trust)
    deny_path.write_bytes(good_deny)
    store = TrustStore(
        (lists / "trust-root.pub.pem").read_bytes(), trust_path, deny_path, FakeClock()
    )
    store.load()
    assert store.problems == []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(trust=trust_documents, deny=trust_documents)
    def load_poison_then_good(trust: bytes, deny: bytes) -> None:
        trust_path.write_bytes(trust)
        deny_path.write_bytes(deny)
        store.load()
        assert len(store.problems) == 2
        health = store.health(7)
        assert (health.trust_list.version, health.denylist.version) == (1, 1)
        trust_path.write_bytes(good_trust)
        deny_path.write_bytes(good_deny)
        store.load()
        assert store.problems == []

    load_poison_then_good()
