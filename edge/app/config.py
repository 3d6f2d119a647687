"""The gate's TOML configuration: one file, validated as a whole before anything starts."""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.app.settings import GateSettings
from edge.configschema import build
from edge.core.settings import PolicySettings
from edge.credentials.settings import CredentialSettings
from edge.credentials.trust.settings import TrustSettings
from edge.drivers.settings import (
    CameraSettings,
    DocumentReaderSettings,
    IoSettings,
    RelaySettings,
    SerialScannerSettings,
    ThermoSettings,
)
from edge.errors import ConfigError
from edge.ids import DEVICE_ID_MAX, device_id
from edge.mqtt.settings import MqttSettings
from edge.platform.settings import PlatformSettings
from edge.readfiles import MAX_CONFIG_BYTES, read_capped
from edge.scan.settings import ScanSettings
from edge.screen.settings import ScreenSettings, VoiceSettings
from edge.service.settings import ServiceSettings
from edge.storage.settings import StorageSettings


@dataclass(frozen=True)
class Config:
    """The whole configuration of one gate."""

    gate: GateSettings
    policy: PolicySettings = field(default_factory=PolicySettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    credentials: CredentialSettings = field(default_factory=CredentialSettings)
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
    screen: ScreenSettings = field(default_factory=ScreenSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)

    def state_path(self, name: str) -> Path:
        """Resolve a path setting: absolute as given, relative inside storage.state_dir."""
        path = Path(name)
        return path if path.is_absolute() else Path(self.storage.state_dir) / path


def parse_config(data: dict[str, Any]) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem by key path."""
    problems: list[str] = []
    config = build(Config, data, "", problems)
    problems += cross_check(config if config is not None else sections_that_build(data))
    if problems or config is None:
        raise ConfigError(problems or ["configuration could not be built"])
    return config


def sections_that_build(data: Any) -> PartialConfig:
    """Each section of `data` that is valid on its own (others None), so that checks across
    sections still run, and report, while another section has problems."""
    table = data if isinstance(data, dict) else {}
    hints = typing.get_type_hints(Config)
    built: dict[str, Any] = {}
    for section in dataclasses.fields(Config):
        raw = table.get(section.name, {})
        problems: list[str] = []
        built[section.name] = build(hints[section.name], raw, "", problems)
        if built[section.name] is None and isinstance(raw, dict):
            # The section's valid keys still count: the bad ones fall back to their defaults.
            bad = {problem.split(":")[0].split(".")[0].split("[")[0] for problem in problems}
            kept = {key: value for key, value in raw.items() if key not in bad}
            built[section.name] = build(hints[section.name], kept, "", [])
    return PartialConfig(**built)


@dataclass(frozen=True)
class PartialConfig:
    """A configuration some of whose sections are invalid (None)."""

    gate: GateSettings | None
    policy: PolicySettings | None
    trust: TrustSettings | None
    credentials: CredentialSettings | None
    camera: CameraSettings | None
    scan: ScanSettings | None
    serial_scanner: SerialScannerSettings | None
    document_reader: DocumentReaderSettings | None
    thermo: ThermoSettings | None
    relay: RelaySettings | None
    io: IoSettings | None
    mqtt: MqttSettings | None
    storage: StorageSettings | None
    service: ServiceSettings | None
    platform: PlatformSettings | None
    screen: ScreenSettings | None
    voice: VoiceSettings | None


def cross_check(config: Config | PartialConfig) -> list[str]:
    """Problems that involve settings of more than one section (skipped for invalid sections)."""
    problems = []
    gate, io, relay = config.gate, config.io, config.relay
    if gate is not None and len(device_id(gate.site, gate.gate)) > DEVICE_ID_MAX:
        problems.append(
            f"gate.gate: the device id <site>.<gate> is longer than {DEVICE_ID_MAX} characters "
            "(the certificate CN limit)"
        )
    thermo = config.thermo
    if (
        thermo is not None
        and io is not None
        and thermo.presence == "input"
        and io.presence_line < 0
    ):
        problems.append(
            'thermo.presence: "input" needs a lane sensor: set io.presence_line (now -1)'
        )
    if io is not None and relay is not None:
        if io.backend == "gateio" and relay.backend != "gateio":
            problems.append(
                'io.backend: "gateio" needs relay.backend "gateio" (one board owns both)'
            )
        if io.backend == "gateio" and io.presence_line >= 0:
            problems.append("io.presence_line: the gate I/O board has no lane sensor input; set -1")
    if io is not None and io.backend != "gateio":
        problems += gpio_line_problems(io, relay)
    policy, reader = config.policy, config.document_reader
    match = policy.person_code_match if policy is not None else "off"
    if match != "off" and reader is not None and not reader.enabled:
        problems.append(
            f'policy.person_code_match: "{match}" needs a document reader: set '
            "document_reader.enabled = true (without one every checked presentation is denied)"
        )
    for key, wanted, port in _serial_ports(config):
        if wanted and not port:
            problems.append(f"{key}: must name the device's serial port")
        elif wanted and port.endswith("/") and "://" not in port:
            problems.append(f"{key}: {port} is a directory; name the device in it")
    if config.platform is not None:
        problems += config.platform.problems()
    return problems


def gpio_line_problems(io: IoSettings, relay: RelaySettings | None) -> list[str]:
    """Every GPIO line used twice: by two inputs or outputs, or by one of them and the relay
    (when both are on the same libgpiod chip), each reported at the later key."""
    used: dict[int, str] = {}
    shared_chip = relay is not None and _chip_path(relay.chip) == _chip_path(io.chip)
    if relay is not None and shared_chip and relay.backend == io.backend == "gpiod":
        used[relay.line] = "relay.line"
    problems = []
    for name in IO_LINES:
        line = getattr(io, name)
        if line < 0:
            continue
        if line in used:
            problems.append(f"io.{name}: line {line} is also {used[line]}")
        else:
            used[line] = f"io.{name}"
    return problems


IO_LINES = (
    "passage_line",
    "manual_button_line",
    "presence_line",
    "green_lamp_line",
    "red_lamp_line",
    "buzzer_line",
)


def _chip_path(chip: str) -> str:
    return chip if chip.startswith("/") else f"/dev/{chip}"


def _serial_ports(config: Config | PartialConfig) -> list[tuple[str, bool, str]]:
    """(key, in use, port) of every serial port setting."""
    ports = []
    if config.serial_scanner is not None:
        scanner = config.serial_scanner
        ports.append(("serial_scanner.port", scanner.enabled, scanner.port))
    if config.document_reader is not None:
        reader = config.document_reader
        ports.append(("document_reader.port", reader.enabled, reader.port))
    if config.relay is not None:
        ports.append(
            ("relay.port", config.relay.backend in ("serial", "gateio"), config.relay.port)
        )
    return ports


def serial_ports_in_use(config: Config | PartialConfig) -> list[tuple[str, str]]:
    """(key, port) of every serial port the configuration will open."""
    return [(key, port) for key, wanted, port in _serial_ports(config) if wanted]


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML configuration file (its content only; `check_config_file` also
    checks the files and ports it names)."""
    return parse_config(read_toml(path))


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; any unreadable or malformed content is a ConfigError."""
    try:
        raw = read_capped(path, MAX_CONFIG_BYTES)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
    except RecursionError as exc:
        raise ConfigError([f"{path}: not valid TOML: nested too deeply"]) from exc
