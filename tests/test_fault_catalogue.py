"""The fault catalogue: every fault says what it blocks and how it is lifted, and is documented."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

from edge.core import decision
from edge.core.faults import FAULT_CATALOGUE, FAULTS, FaultScope, fault_kind, faults_blocking
from edge.core.reasons import DENY_REASON_CATALOGUE, DENY_REASONS
from edge.credentials.dcc.admission import Refusal
from edge.credentials.result import Colour, InvalidReason

ROOT = Path(__file__).resolve().parent.parent


def test_every_fault_has_a_way_back_and_is_in_the_technician_guide() -> None:
    guide = (ROOT / "docs" / "technician-guide.md").read_text()
    for reason, kind in FAULT_CATALOGUE.items():
        assert kind.how, reason
        assert f"`{reason}`" in guide, reason


def test_every_fault_the_service_can_latch_is_in_the_catalogue() -> None:
    latched: set[str] = set()
    for path in (ROOT / "edge").rglob("*.py"):
        text = path.read_text()
        for pattern in (r'report_fault\("([a-z_]+)"', r'_faults\.report\("([a-z_]+)"'):
            latched.update(f"{name}_fault" for name in re.findall(pattern, text))
    latched |= {"camera_fault", "serial_scanner_fault", "document_reader_fault"}  # by part
    assert latched, "no latched fault found"
    assert latched <= set(FAULT_CATALOGUE), latched - set(FAULT_CATALOGUE)


def test_unknown_faults_fail_closed() -> None:
    assert fault_kind("mystery_fault").blocks == "everything"
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
    changed = (replace(FAULTS[0], how="something else"), *FAULTS[1:])
    assert generator.latched_table(changed) not in guide


def _returned_constants(path: Path) -> set[str]:
    """The string constants a module returns inside tuples (`return ("reason",)`, also as the
    fallback of an `or`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            for element in node.value.elts:
                leaves = element.values if isinstance(element, ast.BoolOp) else [element]
                found.update(
                    leaf.value
                    for leaf in leaves
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str)
                )
    return found


def _reasons_the_code_can_give() -> set[str]:
    reasons = set(get_args(InvalidReason)) | set(get_args(Refusal))
    reasons |= set(decision._IDENTITY_REASONS.values())
    reasons |= _returned_constants(ROOT / "edge" / "core" / "decision.py")
    reasons |= {f"colour_{colour}" for colour in get_args(Colour) if colour != "green"}
    for path in (ROOT / "edge").rglob("*.py"):
        text = path.read_text()
        reasons.update(re.findall(r'reasons=\("([a-z_]+)",\)', text))
        reasons.update(re.findall(r'transient\.append\("([a-z_]+)"\)', text))
    return reasons


def test_every_deny_reason_the_gate_can_give_is_in_a_catalogue() -> None:
    reasons = _reasons_the_code_can_give()
    assert {"fever", "already_used", "dcc_test_too_old", "platform_untrusted", "gate_busy"} <= (
        reasons
    )
    catalogued = set(DENY_REASON_CATALOGUE) | set(FAULT_CATALOGUE)
    assert reasons <= catalogued, reasons - catalogued


def test_every_catalogued_deny_reason_can_be_given() -> None:
    assert set(DENY_REASON_CATALOGUE) <= _reasons_the_code_can_give(), (
        set(DENY_REASON_CATALOGUE) - _reasons_the_code_can_give()
    )


def test_deny_reasons_and_faults_are_named_once_and_stably() -> None:
    assert len(DENY_REASON_CATALOGUE) == len(DENY_REASONS)
    assert len(FAULT_CATALOGUE) == len(FAULTS)
    for reason in DENY_REASONS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", reason.name), reason.name
        assert reason.cause and reason.advice, reason.name
    for kind in FAULTS:
        assert kind.meaning and kind.how, kind.reason
        if kind.shown != "latched":
            assert kind.blocks == "nothing", kind.reason


def _schema(name: str) -> dict[str, Any]:
    document = json.loads((ROOT / "edge" / "mqtt" / "schemas" / name).read_text())
    assert isinstance(document, dict)
    return document


def test_the_status_schema_and_the_fault_catalogue_agree() -> None:
    properties = _schema("status.json")["properties"]
    assert set(properties["blocks"]["additionalProperties"]["enum"]) == set(get_args(FaultScope))
    described = properties["faults"]["description"].split("e.g.", 1)[1]
    named = set(re.findall(r"[a-z][a-z_]*(?:-[a-z<>]+)*(?:_fault|-[a-z<>]+)", described))
    named |= {"trust-list", "denylist", "platform_breaker"} & set(described.split(", "))
    assert named, described
    assert {re.sub(r"<[a-z]+>", "<name>", n) for n in named} <= set(FAULT_CATALOGUE)


def test_the_event_schema_points_to_the_deny_reason_catalogue() -> None:
    described = _schema("event.json")["properties"]["reasons"]["description"]
    examples = re.findall(r"\(e\.g\. ([^)]*)\)", described)
    named = {name for listed in examples for name in listed.split(", ")}
    assert named, described
    assert named <= set(DENY_REASON_CATALOGUE) | set(FAULT_CATALOGUE), named


def test_the_mqtt_api_names_only_catalogued_status_faults() -> None:
    api = (ROOT / "docs" / "mqtt-api.yaml").read_text()
    named = set(re.findall(r'fault "([a-z_-]+)"', api))
    assert named, "no fault named in docs/mqtt-api.yaml"
    assert named <= set(FAULT_CATALOGUE), named - set(FAULT_CATALOGUE)


def test_the_event_schema_names_only_catalogued_faults() -> None:
    described = _schema("event.json")["properties"]["fault"]["description"]
    examples = re.findall(r"e\.g\. ([a-z_, ]+);", described)
    named = {name for listed in examples for name in listed.split(", ")}
    assert len(named) >= 5, described
    assert named <= {k.reason for k in FAULTS if k.shown != "status"}, named
