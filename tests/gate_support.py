"""One gate configuration for the tests: the demo gate's settings with quick timings."""

from __future__ import annotations

import json
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


class GateConfig:
    """The `gate_config` fixture: `gate_settings` for one test, its files in the test's
    directory (state/ and state/trust-root.pub.pem unless the test names others)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __call__(
        self,
        *,
        state: Path | None = None,
        root: Path | None = None,
        site: str = "t",
        gate: str = "g",
        **sections: dict[str, Any],
    ) -> dict[str, Any]:
        """The settings as parsed TOML, each of `sections` merged over its section."""
        state = state or self.directory / "state"
        root = root or state / "trust-root.pub.pem"
        return gate_settings(state, root, site=site, gate=gate, **sections)

    def file(
        self,
        path: Path | None = None,
        *,
        state: Path | None = None,
        root: Path | None = None,
        site: str = "t",
        gate: str = "g",
        **sections: dict[str, Any],
    ) -> Path:
        """The same settings written as a TOML file (gate.toml in the test's directory)."""
        path = path or self.directory / "gate.toml"
        settings = self(state=state, root=root, site=site, gate=gate, **sections)
        path.write_text(toml_text(settings))
        return path


def toml_text(settings: dict[str, Any]) -> str:
    """`settings` (tables of strings, numbers, booleans, lists and tables) as TOML."""
    lines: list[str] = []
    for name, table in settings.items():
        lines += _table(name, table)
    return "\n".join(lines) + "\n"


def _table(name: str, table: dict[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    nested = []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append((f"{name}.{key}", value))
        else:
            lines.append(f"{key} = {_value(value)}")
    for sub, values in nested:
        lines += _table(sub, values)
    return lines


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return json.dumps(value)  # strings, numbers and booleans are spelt alike in TOML
