"""One gate configuration for the tests: the demo gate's settings with quick timings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.sim.scenario import demo_gate_settings


def gate_settings(
    state: Path, root: Path, *, site: str = "t", gate: str = "g", **sections: dict[str, Any]
) -> dict[str, Any]:
    """The demo gate's settings (simulated hardware, its trust root, its state directory) with
    the tests' timings: no cooldown, no deny signal, the default scan settings and MQTT off.
    Each of `sections` is merged over the section of that name, key by key."""
    raw = demo_gate_settings(gate, "info", state, root, None)
    raw["gate"] = {"site": site, "gate": gate}
    raw["policy"] = {"cooldown_s": 0.0, "deny_signal_s": 0.0}
    raw["mqtt"] = {"enabled": False}
    del raw["scan"]
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    return raw
