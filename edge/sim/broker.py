"""A local mosquitto on a free loopback port, for the demo, tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Self

from edge.errors import PublishError

MOSQUITTO = "/usr/sbin/mosquitto"
LOOPBACK = "127.0.0.1"
RESERVED_PORT = 1883  # the system broker's port: never taken by a local broker


class BrokerUnavailableError(PublishError):
    """The local mosquitto is not installed, failed to start or did not start listening."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on `host` nobody listens on right now (never 1883)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port != RESERVED_PORT:
            return port


def mosquitto_executable() -> str:
    """The mosquitto binary: /usr/sbin/mosquitto, else `mosquitto` on PATH."""
    if os.access(MOSQUITTO, os.X_OK):
        return MOSQUITTO
    found = shutil.which("mosquitto")
    if found is None:
        raise BrokerUnavailableError(
            f"mosquitto not found ({MOSQUITTO} missing and no `mosquitto` on PATH); "
            "install the mosquitto package to run a local broker"
        )
    return found


class LocalBroker:
    """One mosquitto process with a generated config, restartable on the same port.

    Without `directory`, config, persistence and logs live in a temporary directory this broker
    creates on start() and removes on stop(); restart() keeps it, so persistent sessions survive.
    With `directory`, the caller owns it and it is kept across stop()/start().
    `extra_config` lines follow the listener line, so listener options (cafile, certfile, keyfile,
    require_certificate, ...) apply to it; set `tls=True` when they make it a TLS listener.
    `acl` maps a user name to ACL lines such as "topic readwrite gates/s/g/#".
    """

    def __init__(
        self,
        directory: Path | None = None,
        *,
        port: int | None = None,
        tls: bool = False,
        allow_anonymous: bool = True,
        persistence: bool = True,
        extra_config: Sequence[str] = (),
        acl: Mapping[str, Sequence[str]] | None = None,
        executable: str | None = None,
    ) -> None:
        self.host = LOOPBACK
        self.port = free_port(self.host) if port is None else port
        self.tls = tls
        self.allow_anonymous = allow_anonymous
        self.persistence = persistence
        self.extra_config = tuple(extra_config)
        self.acl = {user: tuple(rules) for user, rules in acl.items()} if acl else None
        self._executable = executable
        self._given_directory = directory
        self._owned_directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker URL for MqttSettings.broker, e.g. mqtt://127.0.0.1:41234."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def directory(self) -> Path | None:
        """Where config, persistence and logs are; None while an owned directory is not made."""
        return self._given_directory or self._owned_directory

    @property
    def log_file(self) -> Path | None:
        """Where mosquitto writes its log; None while the broker has no directory yet."""
        return None if self.directory is None else self.directory / "mosquitto.log"

    @property
    def running(self) -> bool:
        """Tell whether the mosquitto process runs."""
        return self._process is not None and self._process.poll() is None

    def config_text(self, directory: Path) -> str:
        """The mosquitto.conf for this broker with its files under `directory`."""
        lines = [
            "per_listener_settings false",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {directory}/",
            "autosave_interval 1",
            "max_queued_messages 0",
            f"log_dest file {directory / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"listener {self.port} {self.host}",
            *self.extra_config,
        ]
        if os.geteuid() == 0:
            # As root mosquitto would switch to user "mosquitto" and lose access to `directory`.
            lines.insert(0, "user root")
        if self.acl is not None:
            blocks = [f"user {user}\n" + "\n".join(rules) for user, rules in self.acl.items()]
            acl_file = directory / "acl"
            acl_file.write_text("\n\n".join(blocks) + "\n")
            acl_file.chmod(0o600)
            lines.append(f"acl_file {acl_file}")
        lines.append(f"allow_anonymous {'true' if self.allow_anonymous else 'false'}")
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> None:
        """Start mosquitto and wait until it accepts connections; BrokerUnavailableError if not."""
        if self.running:
            return
        executable = self._executable or mosquitto_executable()
        directory = self._prepare_directory()
        config_file = directory / "mosquitto.conf"
        config_file.write_text(self.config_text(directory))
        self._stderr = (directory / "mosquitto.stderr").open("wb")
        try:
            self._process = subprocess.Popen(
                [executable, "-c", str(config_file)],
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
            )
        except OSError as exc:
            self.stop()
            raise BrokerUnavailableError(f"cannot run {executable}: {exc}") from exc
        self._wait_listening(directory, timeout)

    def _prepare_directory(self) -> Path:
        if self._given_directory is not None:
            self._given_directory.mkdir(parents=True, exist_ok=True)
            return self._given_directory
        if self._owned_directory is None:
            self._owned_directory = Path(tempfile.mkdtemp(prefix="gate-edge-broker-"))
        return self._owned_directory

    def _wait_listening(self, directory: Path, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                details = self._read_failure(directory)
                self.stop()
                raise BrokerUnavailableError(f"mosquitto exited with status {status}: {details}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        details = self._read_failure(directory)
        self.stop(graceful=False)
        raise BrokerUnavailableError(
            f"mosquitto did not listen on {self.host}:{self.port} within {timeout:g} s: {details}"
        )

    @staticmethod
    def _read_failure(directory: Path) -> str:
        parts = []
        for name in ("mosquitto.stderr", "mosquitto.log"):
            path = directory / name
            if path.exists():
                text = path.read_text(errors="replace").strip()
                if text:
                    parts.append(text[-2000:])
        return "\n".join(parts)

    def stop(self, *, graceful: bool = True) -> None:
        """Stop mosquitto (SIGTERM saves sessions, graceful=False kills it); drop an owned dir."""
        self._terminate(graceful=graceful)
        owned, self._owned_directory = self._owned_directory, None
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)

    def restart(self, timeout: float = 10.0) -> None:
        """Stop gracefully and start again on the same port, keeping persisted sessions."""
        self._terminate(graceful=True)
        self.start(timeout)

    def _terminate(self, *, graceful: bool) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        stderr, self._stderr = self._stderr, None
        if stderr is not None:
            stderr.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
