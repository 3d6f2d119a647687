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
from edge.errors import ConfigError, GateEdgeError
from edge.mqtt.broker_url import parse_broker_url
from edge.mqtt.settings import MqttSettings
from edge.platform.secret import read_platform_secret
from edge.readfiles import MAX_KEY_BYTES, read_capped
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
    for key, port in serial_ports_in_use(config):
        if "://" not in port and os.path.isdir(port):
            problems.append(f"{key}: {port} is a directory; name the device in it")
    return problems


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
    unreadable = False
    for name, value in files.items():
        problem = _readable(value) if value else None
        if problem is not None:
            problems.append(f"mqtt.{name}: {problem}")
            unreadable = True
    if not unreadable and parse_broker_url(mqtt.broker).tls:
        problems += _tls_problems(mqtt.ca_file, mqtt.cert_file, mqtt.key_file)
    if mqtt.command_public_key:
        try:
            load_command_key(mqtt.command_public_key)
        except GateEdgeError as exc:
            problems.append(f"mqtt.command_public_key: {exc}")
    return problems


def _tls_problems(ca_file: str, cert_file: str, key_file: str) -> list[str]:
    """Load the TLS material the way the client will, so a bad file is found now."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    problems = []
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError, ValueError) as exc:
            problems.append(f"mqtt.ca_file: {ca_file}: not a CA bundle ({exc})")
    if cert_file or key_file:
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
