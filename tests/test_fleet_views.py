"""The fleet views: rows from what gates said, the `fleet` command, the page's login and API,
and what the gate's status adds for them (the certificate's expiry)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.cli import main
from central.collect.messages import parse
from central.collect.store import FleetStore, open_store
from central.fleet.server import RunningFleetPage
from central.fleet.view import GateFacts, fleet_row
from edge.clock import FakeClock
from edge.mqtt.certinfo import certificate_expiry
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.storage.outbox import Outbox
from edge.wire.schema_files import load_schema
from tests.broker import CertificateAuthority
from tests.fleet_support import event_payload
from tests.waiting import free_port

NOW_MS = 1_800_000_000_000
DAY_S = 86_400
TOKEN = "a-long-enough-token"
COMMAND_ID = "0b5bd1f2-8a3e-4c1d-9b7e-2f0a6c1d3e4f"


def _status(state: str, ts: int | None, *, faults: dict[str, str] | None = None) -> bytes:
    expires = NOW_MS / 1000 + 3 * DAY_S
    lists = {"version": 4, "expires_at": expires}
    return json.dumps(
        {"state": state, "ts": ts, "faults": faults or {}, "version": "1.2.3", "dropped_events": 0,
         "trust": {"trust_list": lists, "denylist": {**lists, "version": 9}},
         "certificate_expires_at": NOW_MS / 1000 + 40 * DAY_S}
    ).encode()  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> FleetStore:
    opened = open_store(f"sqlite:///{tmp_path / 'fleet.db'}")
    now = int(time.time() * 1000)
    records = [
        parse("gates/east/g1/status", _status("online", now), now),
        parse("gates/east/g2/status", _status("online", now, faults={"relay_fault": "stuck"}), 0),
        parse("gates/east/g3/status", _status("offline", None), now),
        parse("gates/east/g1/telemetry", json.dumps({"ts": now, "outbox_depth": 12}).encode(), 0),
        parse("gates/east/g1/events", event_payload("east", "g1", 1, ts_ms=now), 0),
        parse("gates/east/g1/events", event_payload("east", "g1", 2, decision="deny"), 0),
        parse("gates/east/g1/events", event_payload("east", "g1", 3, test=True), 0),
        parse("gates/east/g1/events", event_payload("east", "g1", 6), 0),
        parse("gates/west/g9/events", event_payload("west", "g9", 1), 0),
        parse(
            f"gates/east/g1/cmd-result/{COMMAND_ID}",
            json.dumps(
                {
                    "command_id": COMMAND_ID,
                    "command": "clear-fault",
                    "outcome": "refused",
                    "reason": "command expired",
                    "ts": now,
                }
            ).encode(),
            0,
        ),
    ]
    opened.write(records, now)
    return opened


def test_a_row_says_what_the_status_and_telemetry_say() -> None:
    facts = GateFacts(
        "east", "g1", "online", NOW_MS - 1000, json.loads(_status("online", NOW_MS)),
        {"outbox_depth": 3}, NOW_MS, NOW_MS - 5, 7, 2,
    )  # fmt: skip
    row = fleet_row(facts, NOW_MS)
    assert (row.trust_list_version, row.trust_list_days_left) == (4, 3.0)
    assert (row.denylist_version, row.certificate_days_left) == (9, 40.0)
    assert (row.outbox_backlog, row.passes_today, row.denies_today) == (3, 7, 2)
    assert row.version == "1.2.3" and row.attention == 2
    hostile = GateFacts("east", "g2", "online", None, {"trust": [], "faults": 5, "version": 7},
                        {"outbox_depth": "many"}, None)  # fmt: skip
    assert fleet_row(hostile, NOW_MS).as_dict()["faults"] == {}


def test_the_fleet_command_puts_faulted_and_offline_gates_first(
    store: FleetStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store.close()
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    assert main(["fleet", "--db", url, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["gate"], r["state"]) for r in rows] == [
        ("g2", "online"), ("g3", "offline"), ("g9", "unknown"), ("g1", "online")
    ]  # fmt: skip
    g1 = rows[-1]
    assert (g1["passes_today"], g1["denies_today"], g1["outbox_backlog"]) == (2, 1, 12)
    assert (g1["missing_events"], rows[0]["missing_events"]) == (2, 0)
    assert (g1["dropped_events"], rows[2]["dropped_events"]) == (0, None)
    assert rows[0]["faults"] == {"relay_fault": "stuck"}
    assert main(["fleet", "--db", url]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["SITE", "GATE", "STATE"]
    assert "relay_fault" in table[1] and "v4/" in table[1]


def test_the_page_wants_a_login(store: FleetStore) -> None:
    page = RunningFleetPage(store, TOKEN).start()
    try:
        _login_flow(httpx.Client(base_url=page.url), httpx.Client(base_url=page.url))
    finally:
        page.stop()


def _login_flow(client: httpx.Client, bearer: httpx.Client) -> None:
    assert client.get("/api/fleet").status_code == 401
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    wrong = client.post("/login", content=b"token=guess", follow_redirects=False)
    assert wrong.headers["location"] == "/login?failed=1"
    right = client.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert right.headers["location"] == "/" and "httponly" in right.headers["set-cookie"].lower()
    assert client.get("/").status_code == 200
    assert client.get("/static/fleet.js").headers["content-type"].startswith("text/javascript")
    fleet_json = client.get("/api/fleet").json()
    assert [g["gate"] for g in fleet_json["gates"]][:2] == ["g2", "g3"]
    detail = client.get("/api/gates/east/g1").json()
    assert sorted(d["decision"] for d in detail["decisions"]) == ["deny", "pass", "pass"]
    assert len(detail["hourly"]) == 24
    assert detail["commands"] == [
        {"ts_ms": detail["commands"][0]["ts_ms"], "command_id": COMMAND_ID,
         "command": "clear-fault", "outcome": "refused", "reason": "command expired"}
    ]  # fmt: skip
    assert client.get("/api/gates/east/nope").status_code == 404
    assert client.get("/api/gates/east/g%2F1").status_code == 404
    assert client.get("/static/../web.py").status_code == 404
    client.post("/logout", follow_redirects=False)
    assert client.get("/api/fleet").status_code == 401
    assert bearer.get("/api/fleet", headers={"Authorization": f"Bearer {TOKEN}"}).is_success
    assert bearer.get("/api/fleet", headers={"Authorization": "Bearer x"}).status_code == 401


def test_serve_refuses_a_short_token(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("short\n")
    db = f"sqlite:///{tmp_path / 'fleet.db'}"
    assert main(["serve", "--db", db, "--token-file", str(tmp_path / "token")]) == 2
    assert main(["serve", "--db", db, "--token-file", str(tmp_path / "missing")]) == 2


def test_the_status_carries_the_certificate_expiry(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path / "pki")
    cert, key = ca.issue("east.g1")
    expires = certificate_expiry(str(cert))
    assert expires is not None and 0 < expires - time.time() <= DAY_S + 60
    assert certificate_expiry("") is None
    assert certificate_expiry(str(key)) is None  # not a certificate: doctor says why
    clock = FakeClock(start=1_800_000_000.0)
    outbox = Outbox(tmp_path / "outbox.db", site="east", gate="g1", clock=clock)
    settings = MqttSettings(cert_file=str(cert), key_file=str(key))
    publisher = EventPublisher(settings, site="east", gate="g1", outbox=outbox, clock=clock)
    document = publisher.status.document("online", 1, 0)
    jsonschema.validate(document, load_schema("status"))
    assert document["certificate_expires_at"] == expires
    assert "certificate_expires_at" not in publisher.status.last_will(0)
    outbox.close()


def test_any_login_or_gate_address_gets_a_clear_answer(store: FleetStore) -> None:
    page = RunningFleetPage(store, TOKEN).start()
    client = httpx.Client(base_url=page.url)

    @settings(max_examples=50, deadline=None)
    @given(body=st.binary(max_size=300), site=st.text(max_size=30), gate=st.text(max_size=30))
    def probe(body: bytes, site: str, gate: str) -> None:
        login = client.post("/login", content=body, follow_redirects=False)
        assert login.status_code == 303
        assert login.headers["location"] == "/login?failed=1" or TOKEN.encode() in body
        path = f"/api/gates/{quote(site, safe='')}/{quote(gate, safe='')}"
        answer = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code in (200, 307, 404, 405), (path, answer.status_code)

    try:
        probe()
    finally:
        client.close()
        page.stop()


def test_the_serve_command_listens_on_loopback(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    open_store(f"sqlite:///{tmp_path / 'f.db'}").close()  # as a collector leaves it
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", f"sqlite:///{tmp_path / 'f.db'}",
         "--token-file", str(tmp_path / "token"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert (
            server.stdout.readline().decode().startswith(f"fleet page on http://127.0.0.1:{port}")
        )
        for _ in range(200):
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/fleet",
                                   headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert answer.json()["gates"] == []
    finally:
        server.terminate()
        server.wait(10)
