"""The JSON Schemas of the MQTT API, shipped in edge/mqtt/schemas/."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a payload: event, status, telemetry, command or trust-update."""
    text = resources.files("edge.mqtt").joinpath("schemas", f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
