"""`gate-edge verify --config` against a running platform, and `gate-central platform` commands."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from central.cli import main as central_main
from edge.cli import main
from edge.clock import SystemClock
from edge.sim.credentials import SimCredentials
from tests.gate_support import GateConfig
from tests.independent_platform import independent_request
from tests.platform_support import APP_ID, SECRET, ReferencePlatform, resident_id
from tests.waiting import free_port as _free_port

HOLDER = resident_id("15020319551111222")


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[ReferencePlatform]:
    running = ReferencePlatform(tmp_path / "platform").start()
    running.holder(HOLDER, "green")
    running.token("PLT1:abc", "yellow")
    yield running
    running.stop()


def _gate_config(
    gate_config: GateConfig, url: str, directory: Path | None = None
) -> tuple[Path, SimCredentials]:
    directory = directory or gate_config.directory
    state = directory / "state"
    creds = SimCredentials.generate()
    root = creds.write(state, SystemClock().now())
    (state / "platform.secret").write_bytes(SECRET)
    config = gate_config.file(
        directory / "gate.toml",
        state=state,
        root=root,
        site="s",
        platform={
            "url": url,
            "app_id": APP_ID,
            "app_secret_file": "platform.secret",
            "code_prefixes": ["PLT1:"],
        },
    )
    return config, creds


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(args)
    return code, json.loads(capsys.readouterr().out)


def test_verify_with_a_config_asks_the_platform_and_says_the_path(
    gate_config: GateConfig, platform: ReferencePlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    config, creds = _gate_config(gate_config, platform.url)
    code, line = _run(["verify", "--config", str(config), "--id-card", HOLDER], capsys)
    assert (code, line["valid"], line["colour"], line["path"]) == (0, True, "green", "online")
    assert HOLDER not in json.dumps(line)
    code, line = _run(["verify", "--config", str(config), "PLT1:abc"], capsys)
    assert line["admit"] is False and line["deny_reason"] == "colour_yellow"
    assert (code, line["colour"], line["path"], line["format"]) == (
        1,
        "yellow",
        "online",
        "platform",
    )
    offline_code = creds.issue("green", time.time())
    code, line = _run(["verify", "--config", str(config), offline_code], capsys)
    assert (code, line["colour"], line["path"], line["format"]) == (0, "green", "offline", "hcn1")
    code, line = _run(["verify", "--config", str(config), "--id-card", HOLDER[:-1] + "0"], capsys)
    assert (code, line["reason"], line["path"]) == (1, "id_invalid", "offline")


def test_central_commands_register_an_app_a_holder_and_a_token(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    assert (
        central_main(
            ["platform", "app", "--db", str(db), "--app-id", APP_ID, "--secret-file", str(secret)]
        )
        == 0
    )
    holder = ["platform", "holder", "--db", str(db), "--id", HOLDER, "--status", "red"]
    assert central_main([*holder, "--name", "李四光"]) == 0
    assert (
        central_main(
            ["platform", "token", "--db", str(db), "--token", "PLT1:x", "--status", "green"]
        )
        == 0
    )
    assert (
        central_main(["platform", "holder", "--db", str(db), "--id", "123", "--status", "red"]) == 2
    )
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("p.db*"))
    for private in (HOLDER.encode(), "李四光".encode(), "四".encode(), b"PLT1:x"):
        assert private not in stored
    assert "李*光".encode() in stored


def test_the_serve_command_answers_over_http(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    assert (
        central_main(
            ["platform", "app", "--db", str(db), "--app-id", APP_ID, "--secret-file", str(secret)]
        )
        == 0
    )
    assert (
        central_main(["platform", "holder", "--db", str(db), "--id", HOLDER, "--status", "yellow"])
        == 0
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central",
            "platform",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "no server"
                time.sleep(0.1)
        status, answer, trusted = independent_request(url, APP_ID, SECRET, "id_card", HOLDER)
        assert (status, trusted, answer and answer["status"]) == (200, True, "yellow")
    finally:
        server.terminate()
        server.wait(10)


def test_verify_with_a_config_judges_at_the_time_given(
    gate_config: GateConfig, platform: ReferencePlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    config, creds = _gate_config(gate_config, platform.url)
    now = time.time()
    code = creds.issue("green", now, ttl_s=300)
    at = ["verify", "--config", str(config), "--at"]
    assert _run([*at, str(now + 10), code], capsys)[1]["valid"] is True
    late = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
    status, line = _run([*at, late, code], capsys)
    assert (status, line["valid"], line["reason"]) == (1, False, "expired")


def test_verify_names_the_cause_of_a_platform_failure(
    tmp_path: Path,
    gate_config: GateConfig,
    platform: ReferencePlatform,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, _ = _gate_config(gate_config, f"http://127.0.0.1:{_free_port()}")
    status, line = _run(["verify", "--config", str(config), "--id-card", HOLDER], capsys)
    assert (status, line["reason"]) == (1, "platform_unavailable")
    assert str(line["platform_cause"]).startswith("refused: cannot connect to 127.0.0.1")
    config, _ = _gate_config(gate_config, platform.url, tmp_path / "wrong")
    (tmp_path / "wrong" / "state" / "platform.secret").write_bytes(b"not-the-shared-secret!")
    status, line = _run(["verify", "--config", str(config), "--id-card", HOLDER], capsys)
    assert (line["reason"], line["platform_cause"]) == (
        "platform_unavailable",
        "http_status: HTTP 401",
    )
