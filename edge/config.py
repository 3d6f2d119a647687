"""The gate's TOML configuration: one file, validated as a whole before anything starts."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.codes.settings import TrustSettings
from edge.configschema import build
from edge.core.settings import GateSettings, PolicySettings, ServiceSettings
from edge.drivers.settings import DocumentReaderSettings, IoSettings, RelaySettings
from edge.errors import ConfigError
from edge.mqtt.settings import MqttSettings, StorageSettings
from edge.platform.settings import PlatformSettings
from edge.scan.settings import CameraSettings, ScanSettings, SerialScannerSettings
from edge.thermo.settings import ThermoSettings


@dataclass(frozen=True)
class Config:
    """The whole configuration of one gate."""

    gate: GateSettings
    policy: PolicySettings = field(default_factory=PolicySettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    camera: CameraSettings = field(default_factory=CameraSettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    serial_scanner: SerialScannerSettings = field(default_factory=SerialScannerSettings)
    document_reader: DocumentReaderSettings = field(default_factory=DocumentReaderSettings)
    thermo: ThermoSettings = field(default_factory=ThermoSettings)
    relay: RelaySettings = field(default_factory=RelaySettings)
    io: IoSettings = field(default_factory=IoSettings)
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    platform: PlatformSettings = field(default_factory=PlatformSettings)

    def state_path(self, name: str) -> Path:
        """Resolve a path setting: absolute as given, relative inside storage.state_dir."""
        path = Path(name)
        return path if path.is_absolute() else Path(self.storage.state_dir) / path


def parse_config(data: dict[str, Any]) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem by key path."""
    problems: list[str] = []
    config = build(Config, data, "", problems)
    if config is not None:
        problems += cross_check(config)
    if problems or config is None:
        raise ConfigError(problems or ["configuration could not be built"])
    return config


def cross_check(config: Config) -> list[str]:
    """Problems that involve settings of more than one section."""
    problems = []
    if config.thermo.presence == "input" and config.io.presence_line < 0:
        problems.append(
            'thermo.presence: "input" needs a lane sensor: set io.presence_line (now -1)'
        )
    problems += config.platform.problems()
    return problems


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML configuration file."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
    return parse_config(data)
