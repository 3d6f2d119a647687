"""The doctor's checks of configuration, files, trust lists, clock, disk and certificates."""

from __future__ import annotations

import datetime
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from cryptography import x509

from edge.app.config import Config
from edge.credentials.trust.health import ListHealth, ListKind, assess_list, iso_utc
from edge.credentials.trust.root import load_root_public_key
from edge.credentials.trust.trustlist import Denylist, TrustList, parse_denylist, parse_trust_list
from edge.doctor.report import CheckResult, failed, passed, skipped, warned
from edge.errors import CommandError, TrustListError
from edge.service.clockguard import judge_clock, kernel_sync_state
from edge.wire.commands import load_command_key

DISK_FAIL_MB = 50.0
DISK_WARN_MB = 500.0
CERT_WARN_DAYS = 30.0
CLOCK_MARK_FILE = "clock-mark"


def check_files(config: Config) -> list[CheckResult]:
    """Trust root key, state directory, TLS files and command key: present, readable, safe."""
    results = [root_key_check(config), _state_dir(config)]
    mqtt = config.mqtt
    for key, path in (("ca_file", mqtt.ca_file), ("cert_file", mqtt.cert_file)):
        if path:
            results.append(_readable(f"files.mqtt.{key}", Path(path)))
    if mqtt.key_file:
        results.append(_private_key(Path(mqtt.key_file)))
    if mqtt.enabled and mqtt.command_public_key:
        try:
            load_command_key(mqtt.command_public_key)
            results.append(passed("files.command_key", "command public key loads"))
        except CommandError as exc:
            results.append(
                failed(
                    "files.command_key",
                    str(exc),
                    "install the Ed25519 public key central signs commands with: sudo install "
                    f"-m 0644 command.pub.pem {mqtt.command_public_key}",
                )
            )
    return results


def root_key_check(config: Config, name: str = "files.trust_root") -> CheckResult:
    """The trust root's public key: present, readable and an Ed25519 key."""
    path = Path(config.trust.root_public_key)
    fix = (
        f"copy the trust root's public key from central into place: sudo install -m 0644 "
        f"trust-root.pub.pem {path} (or correct trust.root_public_key)"
    )
    try:
        load_root_public_key(path.read_bytes())
    except FileNotFoundError:
        return failed(name, f"trust root key missing: {path} not found", fix)
    except OSError as exc:
        return failed(name, f"trust root key unreadable: {path}: {exc.strerror}", fix)
    except TrustListError as exc:
        return failed(name, f"trust root key not usable: {path}: {exc}", fix)
    return passed(name, f"{path} is an Ed25519 public key")


def _state_dir(config: Config) -> CheckResult:
    name, path = "files.state_dir", Path(config.storage.state_dir)
    if not path.is_dir():
        return failed(
            name,
            f"{path} does not exist",
            f"sudo install -d -m 0750 -o gate-edge -g gate-edge {path}",
        )
    if not os.access(path, os.W_OK | os.X_OK):
        return failed(
            name,
            f"{path} is not writable by uid {os.getuid()}",
            f"sudo chown gate-edge:gate-edge {path}, and run the doctor as the service user "
            "(sudo -u gate-edge)",
        )
    return passed(name, f"{path} exists and is writable")


def _readable(name: str, path: Path) -> CheckResult:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return failed(
            name,
            f"cannot read {path}: {exc.strerror}",
            f"install the file from central as {path} (readable by gate-edge), or correct the "
            "path in [mqtt]",
        )
    return passed(name, f"{path} is readable")


def _private_key(path: Path) -> CheckResult:
    name = "files.mqtt.key_file"
    result = _readable(name, path)
    if result.status != "pass":
        return result
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return warned(
            name,
            f"{path} is readable by others (mode {mode:04o})",
            f"chmod 0600 {path}",
        )
    return passed(name, f"{path} is readable by its owner only")


def read_list(
    kind: ListKind, config: Config, now: float
) -> tuple[TrustList | Denylist | None, str | None]:
    """One list from disk, verified with the trust root, without touching any state."""
    label = "trust list" if kind == "trust_list" else "denylist"
    path = config.state_path(
        config.trust.trust_list if kind == "trust_list" else config.trust.denylist
    )
    try:
        root = load_root_public_key(Path(config.trust.root_public_key).read_bytes())
        data = path.read_bytes()
    except FileNotFoundError as exc:
        return None, f"{label} missing: {exc.filename} not found"
    except OSError as exc:
        return None, f"{label} unreadable: {exc.filename}: {exc.strerror}"
    except TrustListError as exc:
        return None, f"{label} not usable: {exc}"
    try:
        if kind == "trust_list":
            return parse_trust_list(data, root), None
        return parse_denylist(data, root), None
    except TrustListError as exc:
        return None, f"{label} not usable: {path}: {exc}"


def check_trust(config: Config, now: float) -> list[CheckResult]:
    """The trust list and denylist: verified, not expired, days left."""
    results = []
    kinds: tuple[ListKind, ...] = ("trust_list", "denylist")
    root = root_key_check(config)
    for kind in kinds:
        if root.status == "fail":  # nothing can be verified: the root is the cause, not the list
            results.append(failed(f"trust.{kind}", f"cannot verify: {root.detail}", root.fix))
            continue
        document, problem = read_list(kind, config, now)
        health = assess_list(kind, document, problem, now, config.trust.expiry_warning_days)
        results.append(_trust_result(health, config))
    return results


def _trust_result(health: ListHealth, config: Config) -> CheckResult:
    name = f"trust.{health.kind}"
    path = config.state_path(
        config.trust.trust_list if health.kind == "trust_list" else config.trust.denylist
    )
    fix = (
        "central publishes signed lists as retained messages (trust/ topics) once the broker "
        f"is reachable; or copy one in: sudo install -o gate-edge -g gate-edge -m 0640 "
        f"{path.name} {path} (check it first off the gate: gate-central trust show --root "
        f"{config.trust.root_public_key} {path.name}), then run this check again"
    )
    if health.problem:
        return failed(name, health.problem, fix)
    detail = (
        f"version {health.version}, issued {iso_utc(health.issued_at)}, expires "
        f"{iso_utc(health.expires_at)} ({health.days_left} days left)"
    )
    if health.warning:
        return warned(name, f"{detail}: expires within trust.expiry_warning_days", fix)
    return passed(name, detail)


def check_clock(
    config: Config,
    now: float,
    sync_state: Callable[[], tuple[bool, float, float] | None] = kernel_sync_state,
) -> CheckResult:
    """Plausible, not behind the recorded mark, synchronised, small offset."""
    name = "clock"
    mark: float | None
    try:
        mark = float((Path(config.storage.state_dir) / CLOCK_MARK_FILE).read_text().strip())
    except (OSError, ValueError):
        mark = None
    verdict = judge_clock(now, mark, config.trust.clock_skew_s, sync_state())
    if not verdict.usable:
        return failed(
            name,
            verdict.problem or "clock unusable",
            "sudo timedatectl set-ntp true, then check the RTC battery",
        )
    offset = f"offset {verdict.offset_s:+.3f} s" if verdict.offset_s is not None else "offset ?"
    error = f"max error {verdict.max_error_ms:.0f} ms" if verdict.max_error_ms is not None else ""
    detail = f"{iso_utc(now)}, {offset}{', ' + error if error else ''}"
    if verdict.synchronized is False:
        return warned(
            name,
            f"not synchronised ({detail})",
            "sudo timedatectl set-ntp true; check that the NTP servers are reachable",
        )
    if verdict.synchronized is None:
        return warned(
            name,
            f"synchronisation unknown ({detail}): codes and certificates are judged by this clock",
            "timedatectl status (install systemd-timesyncd or chrony if it shows no NTP "
            "service), then: sudo timedatectl set-ntp true",
        )
    if verdict.offset_s is not None and abs(verdict.offset_s) > config.trust.clock_skew_s:
        return warned(
            name, f"large offset ({detail})", "timedatectl timesync-status; check the NTP servers"
        )
    return passed(name, f"synchronised, {detail}")


def check_disk(config: Config) -> CheckResult:
    """Free space where the outbox and state live."""
    name, path = "disk", Path(config.storage.state_dir)
    target = path if path.exists() else path.parent
    try:
        usage = shutil.disk_usage(target)
    except OSError as exc:
        return failed(name, f"cannot stat {target}: {exc.strerror}", "check the file system")
    free_mb = usage.free / 1e6
    detail = f"{free_mb:.0f} MB free of {usage.total / 1e6:.0f} MB on {target}"
    fix = "free space: sudo journalctl --vacuum-size=100M, remove old logs; or a larger SD card"
    if free_mb < DISK_FAIL_MB:
        return failed(name, detail, fix)
    if free_mb < DISK_WARN_MB:
        return warned(name, detail, fix)
    return passed(name, detail)


def check_certificate(config: Config, now: float, config_path: str) -> CheckResult:
    """The device certificate for mutual TLS: readable and not close to expiry."""
    name, path_text = "certificate", config.mqtt.cert_file
    if not path_text:
        return skipped(name, "no device certificate configured (mqtt.cert_file)")
    path = Path(path_text)
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        return failed(
            name,
            f"cannot load {path}: {getattr(exc, 'strerror', None) or exc}",
            f"make a key and request: gate-edge certs csr --config {config_path}; install the "
            f"certificate the broker's CA signs as {path}",
        )
    expires = cert.not_valid_after_utc.timestamp()
    days = round((expires - now) / 86400.0, 1)
    subject = cert.subject.rfc4514_string()
    detail = f"{subject}, expires {iso_utc(expires)} ({days} days left)"
    fix = (
        f"request a new certificate: gate-edge certs csr --config {config_path} --force, signed "
        "by the broker's CA"
    )
    if now > expires:
        return failed(name, f"{subject} expired at {iso_utc(expires)}", fix)
    if now < cert.not_valid_before_utc.timestamp():
        start = datetime.datetime.fromtimestamp(cert.not_valid_before_utc.timestamp(), datetime.UTC)
        return failed(name, f"{subject} not valid before {start:%Y-%m-%dT%H:%M:%SZ}", fix)
    if days < CERT_WARN_DAYS:
        return warned(name, detail, fix)
    return passed(name, detail)
