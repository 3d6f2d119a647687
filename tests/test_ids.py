"""Site and gate ids: one alphabet; client ids and certificate CNs never collide."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.app.config import parse_config
from edge.cli import main
from edge.clock import SystemClock
from edge.errors import ConfigError
from edge.events import GateEvent
from edge.ids import client_id, device_id, device_id_problem, id_problem
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.settings import MqttSettings
from edge.storage.outbox import Outbox
from tests.broker import Broker, Subscriber

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,20}", fullmatch=True)


def _problems(gate: dict[str, Any], **sections: Any) -> list[str]:
    try:
        parse_config({"gate": gate, **sections})
    except ConfigError as exc:
        return exc.problems
    return []


@given(ids, ids, ids, ids)
def test_different_ids_never_share_a_client_id_or_a_device_id(
    site_a: str, gate_a: str, site_b: str, gate_b: str
) -> None:
    if (site_a, gate_a) == (site_b, gate_b):
        return
    assert device_id(site_a, gate_a) != device_id(site_b, gate_b)
    assert client_id(site_a, gate_a) != client_id(site_b, gate_b)


def test_the_ids_that_used_to_collide_get_their_own_names() -> None:
    assert client_id("a-b", "c") != client_id("a", "b-c")
    assert device_id("a-b", "c") != device_id("a", "b-c")
    assert _problems({"site": "a.b", "gate": "c"}) != []  # "a.b" + "c" would read as "a" + "b.c"


@pytest.mark.parametrize(
    ("site", "shown"),
    [
        ("st\x00a", "U+0000"),
        ("st\ta", "U+0009"),
        ("st\na", "U+000A"),
        ("st\u200ba", "U+200B"),
        ("st\u202ea", "U+202E"),
        ("st a", "U+0020"),
        ("st.a", "'.'"),
        ("stä", "'ä'"),
        ("st/a", "'/'"),
        ("st+a", "'+'"),
    ],
)
def test_hidden_and_foreign_characters_in_ids_are_refused_by_key_path(
    site: str, shown: str
) -> None:
    problems = _problems({"site": site, "gate": "g1"})
    assert len(problems) == 1 and problems[0].startswith("gate.site: character ")
    assert shown in problems[0]


def test_id_edges_and_the_certificate_cn_limit() -> None:
    assert id_problem("-east") is not None and id_problem("") is not None
    assert id_problem("x" * 64) is None and id_problem("x" * 65) is not None
    assert id_problem("east\n") is not None
    assert _problems({"site": "s" * 32, "gate": "g" * 31}) == []
    (problem,) = _problems({"site": "s" * 32, "gate": "g" * 32})
    assert problem.startswith("gate.gate: the device id") and "64" in problem


def test_free_text_names_refuse_invisible_characters() -> None:
    gate = {"site": "s1", "gate": "g1"}
    assert _problems(gate, mqtt={"client_id": "gate\x00x"})[0].startswith("mqtt.client_id:")
    assert _problems(gate, policy={"button_operator": "desk\u200b"})[0].startswith(
        "policy.button_operator:"
    )
    assert _problems(gate, policy={"button_operator": "front desk"}) == []


def test_certs_csr_refuses_an_ambiguous_cn(tmp_path: Path, capsys: Any) -> None:
    prefix = tmp_path / "device"
    assert device_id_problem("a.b.c") is not None
    assert main(["certs", "csr", "--out", str(prefix), "--cn", "a.b.c"]) == 2
    assert "exactly one '.'" in capsys.readouterr().err
    assert main(["certs", "csr", "--out", str(prefix), "--cn", "a-b.c\n"]) == 2
    assert not prefix.with_suffix(".key").exists()
    assert main(["certs", "csr", "--out", str(prefix), "--cn", "a-b.c"]) == 0


def test_two_gates_with_once_colliding_ids_both_stay_connected(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    status = Subscriber(mqtt_broker, "gates/+/+/status")
    gates: list[tuple[Outbox, EventPublisher]] = []
    settings = MqttSettings(broker=mqtt_broker.url, reconnect_min_s=0.1, reconnect_max_s=0.5)
    for site, gate in (("a-b", "c"), ("a", "b-c")):
        outbox = Outbox(tmp_path / f"{site}.{gate}.db", site=site, gate=gate, clock=SystemClock())
        publisher = EventPublisher(
            settings, site=site, gate=gate, outbox=outbox, clock=SystemClock()
        )
        publisher.start()
        gates.append((outbox, publisher))
    try:
        for _ in range(5):
            for outbox, _publisher in gates:
                outbox.emit(GateEvent(kind="test"))
            for _outbox, publisher in gates:
                assert publisher.wait_drained(20)
        topics = {"gates/a-b/c/status", "gates/a/b-c/status"}
        assert status.wait_for(lambda m: {t for t, _, _ in m} >= topics)
        assert all(publisher.connected for _, publisher in gates)
    finally:
        for outbox, publisher in gates:
            publisher.stop()
            outbox.close()
        status.close()
    states = [(t, json.loads(p)["state"]) for t, p, _ in status.messages if p]
    assert sorted(states) == sorted([(t, s) for t in topics for s in ("online", "offline")])
    log = mqtt_broker.log_file.read_text() if mqtt_broker.log_file else ""
    assert "already connected" not in log
    assert log.count("as gate-edge-a-b.c (") == 1 and log.count("as gate-edge-a.b-c (") == 1
