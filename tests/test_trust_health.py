"""Trust list and denylist health: days left, warnings, and a fault while every code is denied."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from central.keys import public_key_pem
from edge.clock import FakeClock, SystemClock
from edge.credentials.trust.health import assess_list, iso_utc
from edge.credentials.trust.trustlist import IssuerKey, build_denylist, build_trust_list
from edge.sim.credentials import SimCredentials
from edge.storage.trust_store import TrustStore
from edge.wire.schema_files import load_schema
from tests.broker import Broker, Subscriber
from tests.gate_support import GateConfig

DAY = 86400


def _write_lists(
    creds: SimCredentials, directory: Path, now: float, *, trust_days: float, deny_days: float
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    root = directory / "trust-root.pub.pem"
    root.write_bytes(public_key_pem(creds.root.public_key()))
    issued = int(now) - 60
    issuers = {
        name: [IssuerKey(key.public_key(), issued - DAY, issued + 30 * DAY)]
        for name, key in creds.issuer_keys.items()
    }
    trust = build_trust_list(
        creds.root, issuers, version=4, issued_at=issued, expires_at=int(now + trust_days * DAY)
    )
    (directory / "trust-list.json").write_bytes(trust)
    deny = build_denylist(
        creds.root, [], [], version=2, issued_at=issued, expires_at=int(now + deny_days * DAY)
    )
    (directory / "denylist.json").write_bytes(deny)
    return root


def _store(directory: Path, root: Path, clock: FakeClock) -> TrustStore:
    store = TrustStore(
        root.read_bytes(), directory / "trust-list.json", directory / "denylist.json", clock
    )
    store.load()
    return store


def test_missing_trust_list_blocks_and_names_the_file(tmp_path: Path) -> None:
    clock = FakeClock()
    creds = SimCredentials.generate()
    root = _write_lists(creds, tmp_path, clock.now(), trust_days=30, deny_days=30)
    (tmp_path / "trust-list.json").unlink()
    health = _store(tmp_path, root, clock).health(7.0)
    assert health.blocking is not None
    assert "trust list missing" in health.blocking
    assert str(tmp_path / "trust-list.json") in health.blocking
    assert health.summary()["trust_list"]["state"] == "fault"
    assert health.summary()["denylist"]["state"] == "ok"


def test_unverifiable_trust_list_blocks_with_its_cause(tmp_path: Path) -> None:
    clock = FakeClock()
    creds = SimCredentials.generate()
    root = _write_lists(creds, tmp_path, clock.now(), trust_days=30, deny_days=30)
    (tmp_path / "trust-list.json").write_text('{"not": "signed"}')
    health = _store(tmp_path, root, clock).health(7.0)
    assert health.blocking is not None and "trust list not usable" in health.blocking


def test_expiring_list_warns_with_days_left_then_blocks_once_expired(tmp_path: Path) -> None:
    clock = FakeClock()
    creds = SimCredentials.generate()
    root = _write_lists(creds, tmp_path, clock.now(), trust_days=3, deny_days=30)
    store = _store(tmp_path, root, clock)
    health = store.health(7.0)
    assert health.blocking is None
    assert health.trust_list.days_left == pytest.approx(3.0, abs=0.1)
    assert health.warnings and "expires in 3.0 days" in health.warnings[0]
    assert health.summary()["trust_list"]["state"] == "expiring"
    assert store.health(2.0).warnings == ()  # the warning window is configurable
    clock.advance(4 * DAY)
    expired = store.health(7.0)
    assert expired.blocking is not None and "trust list version 4 expired at" in expired.blocking


def test_expired_denylist_blocks_a_missing_one_is_reported_only(tmp_path: Path) -> None:
    clock = FakeClock()
    creds = SimCredentials.generate()
    root = _write_lists(creds, tmp_path, clock.now(), trust_days=30, deny_days=1)
    store = _store(tmp_path, root, clock)
    clock.advance(2 * DAY)
    health = store.health(7.0)
    assert health.blocking is not None and "denylist version 2 expired" in health.blocking
    (tmp_path / "denylist.json").unlink()
    fresh = _store(tmp_path, root, clock).health(7.0)
    assert fresh.blocking is None
    assert fresh.denylist_problem is not None and "denylist missing" in fresh.denylist_problem


def test_a_retained_update_clears_the_missing_file_problem(tmp_path: Path) -> None:
    clock = FakeClock()
    creds = SimCredentials.generate()
    root = _write_lists(creds, tmp_path / "src", clock.now(), trust_days=30, deny_days=30)
    store = _store(tmp_path, root, clock)
    assert store.health(7.0).blocking is not None
    store.update_trust_list((tmp_path / "src" / "trust-list.json").read_bytes())
    assert store.health(7.0).trust_list.problem is None


def test_summary_prints_iso_times_beside_epochs() -> None:
    health = assess_list("trust_list", None, None, 1_767_225_600.0, 7.0)
    assert health.problem == "no trust list"
    assert iso_utc(1_767_225_600) == "2026-01-01T00:00:00Z"


# ---- checked from outside: `gate-edge run` with a real broker -------------------------------


def _gate_config(gate_config: GateConfig, root: Path, broker: Broker) -> Path:
    return gate_config.file(
        root=root,
        site="th",
        gate="g1",
        mqtt={"enabled": True, "broker": broker.url, "telemetry_interval_s": 1.0},
    )


@pytest.fixture
def run_gate(tmp_path: Path, mqtt_broker: Broker) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(10)


def _start(config: Path, started: list[subprocess.Popen[bytes]]) -> None:
    started.append(
        subprocess.Popen(
            [sys.executable, "-m", "edge", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )


def _latest_status(sub: Subscriber, want: str) -> dict[str, object]:
    found: dict[str, object] = {}

    def seen(messages: list[tuple[str, bytes, bool]]) -> bool:
        for _, payload, _ in messages:
            document = json.loads(payload)
            if document.get("state") == "online" and want in json.dumps(document):
                found.update(document)
                return True
        return False

    assert sub.wait_for(seen, 15.0), [json.loads(p) for _, p, _ in sub.messages]
    return found


@pytest.mark.slow
def test_gate_without_trust_list_shows_the_fault_on_its_retained_status(
    tmp_path: Path,
    mqtt_broker: Broker,
    run_gate: list[subprocess.Popen[bytes]],
    gate_config: GateConfig,
) -> None:
    creds = SimCredentials.generate()
    state = tmp_path / "state"
    root = _write_lists(creds, state, SystemClock().now(), trust_days=30, deny_days=30)
    (state / "trust-list.json").unlink()
    _start(_gate_config(gate_config, root, mqtt_broker), run_gate)
    status = Subscriber(mqtt_broker, "gates/th/g1/status", client_id="central-status")
    try:
        document = _latest_status(status, "trust_fault")
    finally:
        status.close()
    faults = document["faults"]
    assert isinstance(faults, dict)
    assert "trust list missing" in faults["trust_fault"]
    assert document["blocks"] == {"trust_fault": "everything"}
    jsonschema.validate(document, load_schema("status"))


@pytest.mark.slow
def test_gate_with_a_list_expiring_in_three_days_shows_days_left_and_the_warning(
    tmp_path: Path,
    mqtt_broker: Broker,
    run_gate: list[subprocess.Popen[bytes]],
    gate_config: GateConfig,
) -> None:
    creds = SimCredentials.generate()
    state = tmp_path / "state"
    root = _write_lists(creds, state, SystemClock().now(), trust_days=3, deny_days=30)
    _start(_gate_config(gate_config, root, mqtt_broker), run_gate)
    status = Subscriber(mqtt_broker, "gates/th/g1/status", client_id="central-status")
    telemetry = Subscriber(mqtt_broker, "gates/th/g1/telemetry", client_id="central-telemetry")
    try:
        document = _latest_status(status, "expires in")
        assert telemetry.wait_for(bool, 15.0)
        sample = json.loads(telemetry.messages[-1][1])
    finally:
        status.close()
        telemetry.close()
    trust = document["trust"]
    assert isinstance(trust, dict)
    assert trust["trust_list"]["days_left"] == pytest.approx(3.0, abs=0.1)
    assert trust["trust_list"]["state"] == "expiring"
    assert "expires in 3.0 days" in trust["trust_list"]["warning"]
    assert document["faults"] == {}
    jsonschema.validate(document, load_schema("status"))
    assert sample["trust_list_days_left"] == pytest.approx(3.0, abs=0.1)
    assert sample["trust_list_version"] == 4
    assert "expires in" in sample["trust_warning"]
    jsonschema.validate(sample, load_schema("telemetry"))


def test_a_trust_list_whose_keys_all_expired_blocks(tmp_path: Path) -> None:
    clock = FakeClock()
    creds = SimCredentials.generate()
    root = _write_lists(creds, tmp_path, clock.now(), trust_days=60, deny_days=60)
    store = _store(tmp_path, root, clock)
    clock.advance(31 * DAY)  # the issuer keys end after 30 days, the list after 60
    health = store.health(7.0)
    assert health.blocking is not None and "no issuer key valid now" in health.blocking
