"""The whole gate with a platform: an ID card alone passes after the temperature, QR tokens go
online, a card during a person-code match is the match's document, events name the path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edge.app.config import Config, parse_config
from edge.app.gate import GateService
from edge.app.supervision import platform_faults
from edge.clock import SystemClock
from edge.core.records import DecisionRecord
from edge.errors import ConfigError
from edge.sim.credentials import SimCredentials
from edge.sim.rig import SimGate, render_code_frames
from edge.sim.scenario import FEVER_SKIN_C, NORMAL_SKIN_C
from edge.wire.documents import telemetry_document
from edge.wire.schema_files import load_schema
from tests.gate_support import GateConfig, gate_settings
from tests.platform_support import APP_ID, SECRET, ReferencePlatform, resident_id
from tests.waiting import free_port

ELDER = resident_id("15010219400101123")
RED_HOLDER = resident_id("15010219600101456")


def _config(state: Path, root: Path, url: str, **policy: object) -> Config:
    # The card reader of the simulated gate stands in for the configured one.
    reader = {"enabled": True, "port": "loop://"} if policy.get("person_code_match") else {}
    return parse_config(
        gate_settings(
            state,
            root,
            document_reader=reader,
            policy=dict(policy),
            platform={
                "url": url,
                "app_id": APP_ID,
                "app_secret_file": "platform.secret",
                "code_prefixes": ["PLT1:"],
            },
        )
    )


class JumpClock(SystemClock):
    """The system clock, whose monotonic time a test can move forward at once."""

    def __init__(self) -> None:
        self.jumped_s = 0.0

    def monotonic(self) -> float:
        return super().monotonic() + self.jumped_s


class PlatformRig:
    def __init__(
        self, tmp: Path, url: str, clock: SystemClock | None = None, **policy: object
    ) -> None:
        self.creds = SimCredentials.generate()
        self.state = tmp / "state"
        self.root = self.creds.write(self.state, SystemClock().now())
        (self.state / "platform.secret").write_bytes(SECRET + b"\n")
        self.config = _config(self.state, self.root, url, **policy)
        self.sim = SimGate(SystemClock())
        self.sim.turnstile.walk_delay_s = 0.01
        self.records: list[DecisionRecord] = []
        self.decided = threading.Event()
        self.service = GateService(
            self.config, self.sim.hardware, clock=clock, on_decision=self._record
        )

    def _record(self, record: DecisionRecord) -> None:
        if record.outcome is None:
            self.records.append(record)
            self.decided.set()

    def wait_decision(self) -> DecisionRecord:
        assert self.decided.wait(15), "no decision"
        self.decided.clear()
        record = self.records[-1]
        assert self.service.controller.wait_idle(10)
        return record

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(entry.payload) for entry in self.service.outbox.pending()]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[ReferencePlatform]:
    running = ReferencePlatform(tmp_path / "platform").start()
    running.holder(ELDER, "green", name="王秀英")
    running.holder(RED_HOLDER, "red")
    running.token("PLT1:online-only-token", "green")
    yield running
    running.stop()


@pytest.fixture
def rig(tmp_path: Path, platform: ReferencePlatform) -> Iterator[PlatformRig]:
    made = PlatformRig(tmp_path, platform.url)
    made.service.start()
    yield made
    made.service.stop()


def test_an_id_card_alone_passes_after_the_temperature(rig: PlatformRig) -> None:
    rig.sim.person_arrives(NORMAL_SKIN_C)
    rig.sim.card_reader.swipe(ELDER)
    record = rig.wait_decision()
    assert (record.verdict, record.method, record.colour) == ("pass", "id_card", "green")
    assert record.temperature_c is not None and record.identity == "not_required"
    assert "platform_ms" in record.timings_ms
    rig.sim.person_leaves()

    rig.sim.person_arrives(FEVER_SKIN_C)
    rig.sim.card_reader.swipe(RED_HOLDER)
    assert rig.wait_decision().reasons == ("colour_red",)
    rig.sim.person_leaves()

    rig.sim.person_arrives(NORMAL_SKIN_C)
    rig.sim.card_reader.swipe(ELDER[:-1] + ("1" if ELDER[-1] != "1" else "2"))
    assert rig.wait_decision().reasons == ("id_invalid",)

    rig.sim.card_reader.swipe(ELDER)  # the same person again at once
    assert rig.wait_decision().reasons == ("already_used",)

    events = rig.events()
    decisions = [e for e in events if e["kind"] == "decision"]
    assert [e["path"] for e in decisions] == ["online", "online", "offline", "cache"]
    assert decisions[0]["method"] == "id_card" and decisions[0]["timings_ms"]["platform_ms"] >= 0
    for event in events:
        jsonschema.validate(event, load_schema("event"))
    raw = json.dumps(events, ensure_ascii=False)
    for secret in (ELDER, RED_HOLDER, ELDER[:-1], "王", "秀英"):
        assert secret not in raw


def test_an_online_only_qr_token_passes(rig: PlatformRig) -> None:
    rig.sim.person_arrives(NORMAL_SKIN_C)
    rig.sim.camera.show(render_code_frames("PLT1:online-only-token", 3))
    record = rig.wait_decision()
    assert (record.verdict, record.method, record.issuer) == ("pass", "camera", "CN-150000")
    assert rig.events()[0]["path"] == "online"


def test_a_card_during_a_person_code_match_is_the_document(
    tmp_path: Path, platform: ReferencePlatform
) -> None:
    made = PlatformRig(tmp_path, platform.url, person_code_match="always", identity_timeout_s=5.0)
    made.service.start()
    try:
        code = made.creds.issue("green", SystemClock().now(), document=ELDER)
        made.sim.person_arrives(NORMAL_SKIN_C)
        made.sim.camera.show(render_code_frames(code, 5))
        while made.service.controller.status().state.value != "identity":
            assert not made.decided.wait(0.02)
        made.sim.card_reader.swipe(ELDER)
        record = made.wait_decision()
        assert (record.verdict, record.method, record.identity) == ("pass", "camera", "matched")
        decisions = [event for event in made.events() if event["kind"] == "decision"]
        assert decisions[0]["path"] == "offline"
    finally:
        made.service.stop()


def test_a_missing_platform_secret_is_a_config_error(tmp_path: Path) -> None:
    made_state = tmp_path / "state"
    creds = SimCredentials.generate()
    root = creds.write(made_state, SystemClock().now())
    config = _config(made_state, root, "http://127.0.0.1:9")
    with pytest.raises(ConfigError) as caught:
        GateService(config, SimGate(SystemClock()).hardware)
    assert caught.value.problems[0].startswith("platform.app_secret_file: cannot read")


def test_platform_settings_are_validated_together(gate_config: GateConfig) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            gate_config(
                platform={
                    "routes": [{"id_prefix": "15x", "url": "ftp://x"}, {"id_prefix": "11"}],
                    "code_prefixes": ["PLT1:", ""],
                    "fallback": "maybe",
                },
            )
        )
    problems = caught.value.problems
    assert (
        "platform.routes[0].id_prefix: must be 1-6 digits (a GB/T 2260 division code prefix)"
        in problems
    )
    assert "platform.routes[0].url: must start with http:// or https://" in problems
    assert "platform.routes[1].url: required key is missing" in problems
    assert any(p.startswith("platform.fallback: 'maybe' is not one of") for p in problems)
    assert any(p.startswith("platform.code_prefixes: an empty prefix") for p in problems)
    with pytest.raises(ConfigError) as caught:
        parse_config(
            gate_config(
                platform={
                    "routes": [{"id_prefix": "15", "url": "http://p"}],
                    "code_prefixes": ["P"],
                },
            )
        )
    assert caught.value.problems == [
        "platform.app_id: required when a platform url or route is set",
        "platform.app_secret_file: required when a platform url or route is set",
        "platform.code_prefixes: QR texts are sent to platform.url; set it",
    ]


def test_a_dead_platform_opens_the_breaker_and_shows_on_status_and_telemetry(
    tmp_path: Path,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    made = PlatformRig(tmp_path, dead)
    made.service.start()
    try:
        made.sim.person_arrives(NORMAL_SKIN_C)
        made.sim.card_reader.swipe(ELDER)
        assert made.wait_decision().reasons == ("platform_unavailable",)
        shown = platform_faults(made.service.credentials.client)["platform_breaker"]
        assert shown.startswith(f"fallback in use: {dead} open (refused: cannot connect")
        metrics = made.service.metrics()
        metrics.update(outbox_depth=0, outbox_oldest_age_s=None, outbox_dropped=0, uptime_s=1.0)
        document = telemetry_document(1_795_000_000_000, metrics)
        jsonschema.validate(document, load_schema("telemetry"))
        assert document["platform_breakers"] == f"{dead}=open"
        assert document["platform_failed"] == 1
    finally:
        made.service.stop()


def test_a_hung_document_desk_stops_the_watchdog(
    tmp_path: Path, platform: ReferencePlatform
) -> None:
    clock = JumpClock()
    made = PlatformRig(tmp_path, platform.url, clock)
    desk = made.service.documents
    assert desk is not None
    entered, release = threading.Event(), threading.Event()

    def hang(line: str, read_at: float) -> None:
        entered.set()
        release.wait(10)

    desk._on_card = hang  # a card whose handling never returns
    made.service.start()
    try:
        assert "document-desk" not in made.service.watchdog.stale()
        made.sim.card_reader.swipe(ELDER)
        assert entered.wait(5)
        clock.jumped_s = 3.0 + 5.0 + 1.0  # longer than one platform check and a margin
        assert "document-desk" in made.service.watchdog.stale()
    finally:
        release.set()
        made.service.stop()
