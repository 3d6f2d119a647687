"""The fault catalogue: every fault says what it blocks and how it is lifted, and is documented."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

from edge.core.faults import faults_blocking
from edge.faults import WORKER_FAULT_PREFIX, Fault, FaultScope, fault_scope, worker_fault
from edge.reasons import Reason

ROOT = Path(__file__).resolve().parent.parent


def test_every_fault_has_a_way_back_and_is_in_the_technician_guide() -> None:
    guide = (ROOT / "docs" / "technician-guide.md").read_text()
    for kind in Fault:
        assert kind.how, kind
        assert f"`{kind}`" in guide, kind


def test_unknown_faults_fail_closed() -> None:
    assert fault_scope("mystery_fault") == "everything"
    assert faults_blocking(["mystery_fault"], "manual", "central") == ("mystery_fault",)
    assert faults_blocking(["indicator_fault", "camera_fault"], "serial", None) == ()


def _guide_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_guide_catalogue", ROOT / "scripts" / "update-guide-catalogue.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_technician_guide_tables_are_generated_from_the_catalogues() -> None:
    guide = (ROOT / "docs" / "technician-guide.md").read_text()
    generator = _guide_generator()
    for section in generator.SECTIONS:
        assert generator.generated(section) in guide, (
            f"{section}: run .venv/bin/python scripts/update-guide-catalogue.py"
        )


def test_a_changed_catalogue_entry_makes_the_guide_stale() -> None:
    generator = _guide_generator()
    guide = (ROOT / "docs" / "technician-guide.md").read_text()
    assert generator.latched_table() in guide
    changed = [_Entry(k.value, k.shown, k.blocks, k.meaning, k.how) for k in Fault]
    changed[0] = _Entry(changed[0].value, changed[0].shown, changed[0].blocks, "?", "other")
    assert generator.latched_table(changed) not in guide


@dataclass(frozen=True)
class _Entry:
    value: str
    shown: str
    blocks: str
    meaning: str
    how: str


def test_every_deny_reason_is_one_the_gate_names_in_its_code() -> None:
    named: set[str] = set()
    for path in (ROOT / "edge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Reason"
            ):
                named.add(node.attr)
    assert {reason.name for reason in Reason} <= named, {r.name for r in Reason} - named


def test_deny_reasons_and_faults_are_named_once_and_stably() -> None:
    assert len({reason.value for reason in Reason}) == len(Reason)
    assert len({fault.value for fault in Fault}) == len(Fault)
    for reason in Reason:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", reason.value), reason
        assert reason.cause and reason.advice, reason
    for kind in Fault:
        assert re.fullmatch(r"[a-z][a-z0-9_]*(<name>)?", kind.value), kind
        assert kind.meaning and kind.how, kind
        if kind.shown != "latched":
            assert kind.blocks == "nothing", kind


def test_a_worker_fault_is_snake_case_and_found_in_the_catalogue() -> None:
    assert worker_fault("mqtt-outbox") == "worker_mqtt_outbox"
    assert worker_fault("scan").startswith(WORKER_FAULT_PREFIX)
    assert Fault.named(worker_fault("gate-controller")) is Fault.WORKER
    assert Fault.named("relay_fault") is Fault.RELAY_FAULT
    assert Fault.named("relay") is None and Fault.named("trust-list") is None
    assert fault_scope(worker_fault("scan")) == "nothing"


def test_no_two_catalogue_entries_share_their_words() -> None:
    causes = [reason.cause for reason in Reason if not reason.name.startswith("COLOUR_")]
    meanings = [fault.meaning for fault in Fault if fault.value not in ("trust_list", "denylist")]
    assert len(set(causes)) == len(causes)
    assert len(set(meanings)) == len(meanings)


def _schema(name: str) -> dict[str, Any]:
    document = json.loads((ROOT / "edge" / "mqtt" / "schemas" / name).read_text())
    assert isinstance(document, dict)
    return document


def test_the_status_schema_and_the_fault_catalogue_agree() -> None:
    properties = _schema("status.json")["properties"]
    assert set(properties["blocks"]["additionalProperties"]["enum"]) == set(get_args(FaultScope))
    described = properties["faults"]["description"].split("e.g. ", 1)[1].split(";", 1)[0]
    named = {re.sub(r" \(.*\)$", "", listed) for listed in described.split(", ")}
    assert len(named) >= 10, described
    assert named <= set(Fault), named - set(Fault)


def test_the_event_schema_points_to_the_deny_reason_catalogue() -> None:
    described = _schema("event.json")["properties"]["reasons"]["description"]
    examples = re.findall(r"\(e\.g\. ([^)]*)\)", described)
    named = {name for listed in examples for name in listed.split(", ")}
    assert named, described
    assert named <= set(Reason) | set(Fault), named


def test_the_mqtt_api_names_only_catalogued_status_faults() -> None:
    api = (ROOT / "docs" / "mqtt-api.yaml").read_text()
    named = set(re.findall(r'fault "([a-z_-]+)"', api))
    assert named, "no fault named in docs/mqtt-api.yaml"
    assert named <= set(Fault), named - set(Fault)


def test_the_event_schema_names_only_catalogued_faults() -> None:
    described = _schema("event.json")["properties"]["fault"]["description"]
    examples = re.findall(r"e\.g\. ([a-z_, ]+);", described)
    named = {name for listed in examples for name in listed.split(", ")}
    assert len(named) >= 5, described
    assert named <= {k.value for k in Fault if k.shown != "status"}, named
