"""The one validation that `config check`, `run` and `reload-config` share."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

from edge.app.config import (
    Config,
    PartialConfig,
    parse_config,
    read_toml,
    sections_that_build,
    serial_ports_in_use,
)
from edge.credentials.trust.root import load_root_public_key
from edge.drivers.serial_ports import candidates_text
from edge.errors import ConfigError, GateEdgeError
from edge.mqtt.settings import MqttSettings
from edge.platform.secret import read_platform_secret
from edge.readfiles import MAX_KEY_BYTES, read_capped
from edge.screen.catalogue import load_catalogues
from edge.wire.broker_url import parse_broker_url
from edge.wire.commands import load_command_key


def check_config_file(path: str | Path) -> Config:
    """Validate a configuration file and everything it names on this machine (key, CA and
    trust-root files, serial ports), touching no hardware; raise ConfigError listing every
    problem by key path."""
    data = read_toml(path)
    try:
        config = parse_config(data)
    except ConfigError as exc:
        # Sections that are valid on their own are still checked against the machine.
        raise ConfigError(exc.problems + machine_problems(sections_that_build(data))) from None
    problems = machine_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


def machine_problems(config: Config | PartialConfig) -> list[str]:
    """Files that cannot be read or loaded, and serial ports that cannot be devices (sections
    that are None are skipped)."""
    problems = []
    if config.trust is not None:
        problem = _root_key_problem(config.trust.root_public_key)
        if problem is not None:
            problems.append(f"trust.root_public_key: {problem}")
    if config.mqtt is not None and config.mqtt.enabled:
        problems += _mqtt_problems(config.mqtt)
    platform, storage = config.platform, config.storage
    if platform is not None and platform.enabled and platform.app_secret_file:
        secret = Path(platform.app_secret_file)
        if not secret.is_absolute() and storage is not None:
            secret = Path(storage.state_dir) / secret
        try:
            read_platform_secret(secret)
        except ConfigError as exc:
            problems += exc.problems
    problems += _screen_problems(config)
    for key, port in serial_ports_in_use(config):
        if "://" not in port and os.path.isdir(port):
            problems.append(f"{key}: {port} is a directory; name the device in it")
        elif key == "relay.port" and port.startswith("/") and not os.path.exists(port):
            # The relay is required: the gate cannot start without it.
            problems.append(f"{key}: {port} does not exist; {candidates_text()}")
    return problems


def _screen_problems(config: Config | PartialConfig) -> list[str]:
    """The text catalogues the screen and the voice would load (shipped and operator's)."""
    screen, voice = config.screen, config.voice
    if screen is None or voice is None or not (screen.enabled or voice.enabled):
        return []
    problems = []
    for key, directory in (
        ("screen.texts_dir", screen.texts_dir),
        ("voice.recordings_dir", voice.recordings_dir if voice.enabled else ""),
    ):
        if directory and not os.path.isdir(directory):
            problems.append(f"{key}: {directory} is not a directory")
    tags = list(dict.fromkeys([*screen.languages, *(voice.languages if voice.enabled else [])]))
    try:
        load_catalogues(tags, screen.texts_dir)
    except ConfigError as exc:
        problems += exc.problems
    return problems


def config_warnings(config: Config | PartialConfig) -> list[str]:
    """What does not stop the gate but a technician must know: simulated parts, a trust list
    not received yet, optional serial devices not plugged in (invalid sections are skipped)."""
    warnings = []
    fakes = {
        "thermo.backend": config.thermo.backend if config.thermo else None,
        "relay.backend": config.relay.backend if config.relay else None,
        "io.backend": config.io.backend if config.io else None,
    }
    for key, backend in fakes.items():
        if backend == "fake":
            warnings.append(f"{key}: fake (a simulated part: nothing real is measured or switched)")
    if config.camera is not None and config.camera.source == "replay":
        warnings.append("camera.source: replay (recorded frames, not a camera)")
    if config.trust is not None and config.storage is not None:
        trust_list = Path(config.trust.trust_list)
        if not trust_list.is_absolute():
            trust_list = Path(config.storage.state_dir) / trust_list
        if not trust_list.is_file():
            warnings.append(
                f"trust.trust_list: {trust_list} not there yet: every code is denied "
                "unknown_issuer until central publishes the list (or it is copied in)"
            )
    for key, port in serial_ports_in_use(config):
        if key != "relay.port" and port.startswith("/") and not os.path.exists(port):
            warnings.append(f"{key}: {port} does not exist now; {candidates_text()}")
    return warnings


def file_warnings(path: str | Path) -> list[str]:
    """config_warnings() of a file whatever its problems (its valid sections only)."""
    try:
        return config_warnings(sections_that_build(read_toml(path)))
    except ConfigError:
        return []


def _root_key_problem(path: str) -> str | None:
    problem = _readable(path)
    if problem is None:
        try:
            load_root_public_key(read_capped(path, MAX_KEY_BYTES))
        except (OSError, GateEdgeError) as exc:
            problem = f"{path}: {exc}"
    return problem


def _mqtt_problems(mqtt: MqttSettings) -> list[str]:
    problems = []
    files = {"ca_file": mqtt.ca_file, "cert_file": mqtt.cert_file, "key_file": mqtt.key_file}
    unreadable = set()
    for name, value in files.items():
        problem = _readable(value) if value else None
        if problem is not None:
            problems.append(f"mqtt.{name}: {problem}")
            unreadable.add(name)
    if parse_broker_url(mqtt.broker).tls:
        # Each readable file is still loaded, so a garbage CA shows beside a missing certificate.
        problems += _tls_problems(
            "" if "ca_file" in unreadable else mqtt.ca_file,
            mqtt.cert_file,
            mqtt.key_file,
            chain_readable=not unreadable & {"cert_file", "key_file"},
        )
    if mqtt.command_public_key:
        try:
            load_command_key(mqtt.command_public_key)
        except GateEdgeError as exc:
            problems.append(f"mqtt.command_public_key: {exc}")
    return problems


def _tls_problems(
    ca_file: str, cert_file: str, key_file: str, *, chain_readable: bool = True
) -> list[str]:
    """Load the TLS material the way the client will, so a bad file is found now."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    problems = []
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError, ValueError) as exc:
            problems.append(f"mqtt.ca_file: {ca_file}: not a CA bundle ({exc})")
    if (cert_file or key_file) and chain_readable:
        if not cert_file:
            problems.append("mqtt.cert_file: mqtt.key_file is set, the certificate is missing")
        else:
            try:
                context.load_cert_chain(cert_file, key_file or None)
            except (OSError, ssl.SSLError, ValueError) as exc:
                problems.append(f"mqtt.cert_file: {cert_file} with its key does not load ({exc})")
    return problems


def _readable(path: str) -> str | None:
    try:
        read_capped(path, MAX_KEY_BYTES)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    return None
