"""The fault catalogue: every fault says what it blocks and how it is lifted, and is documented."""

from __future__ import annotations

import re
from pathlib import Path

from edge.core.faults import FAULT_CATALOGUE, fault_kind, faults_blocking

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
