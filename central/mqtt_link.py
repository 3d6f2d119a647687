"""A short-lived MQTT 5 connection for central tools (command send, trust publish)."""

from __future__ import annotations

import argparse
import os
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from central.errors import CentralError
from edge.errors import PublishError
from edge.wire.broker_url import parse_broker_url


def add_broker_arguments(parser: argparse.ArgumentParser) -> None:
    """--broker and its TLS / login options."""
    parser.add_argument("--broker", required=True, metavar="URL", help="mqtt:// or mqtts://")
    parser.add_argument("--ca-file", default="", help="CA bundle for mqtts://")
    parser.add_argument("--cert-file", default="", help="client certificate (mutual TLS)")
    parser.add_argument("--cert-key-file", default="", help="its private key")
    parser.add_argument("--username", default="")
    parser.add_argument("--password-file", type=Path, metavar="FILE")


class ToolLink:
    """Connects on enter (clean session, a unique client id), disconnects on exit."""

    def __init__(self, args: argparse.Namespace, name: str, timeout_s: float = 10.0) -> None:
        try:
            self.address = parse_broker_url(args.broker)
        except PublishError as exc:
            raise CentralError(str(exc)) from None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"gate-central-{name}-{os.getpid()}",
            protocol=mqtt.MQTTv5,
        )
        if self.address.tls:
            self.client.tls_set(
                ca_certs=args.ca_file or None,
                certfile=args.cert_file or None,
                keyfile=args.cert_key_file or None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if args.username:
            password = None
            if args.password_file is not None:
                try:
                    password = args.password_file.read_text().strip()
                except OSError as exc:
                    raise CentralError(f"cannot read {args.password_file}: {exc}") from None
            self.client.username_pw_set(args.username, password)
        self._timeout_s = timeout_s
        self._connected = threading.Event()
        self._refusal = ""
        self.client.on_connect = self._on_connect

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason: ReasonCode, properties: object = None) -> None:  # fmt: skip
        if reason.is_failure:
            self._refusal = str(reason)
        self._connected.set()

    def __enter__(self) -> Self:
        try:
            self.client.connect(self.address.host, self.address.port, keepalive=30)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise CentralError(f"cannot reach the broker: {exc}") from None
        self.client.loop_start()
        if not self._connected.wait(self._timeout_s):
            self.__exit__(None, None, None)
            raise CentralError("the broker did not answer the connection")
        if self._refusal:
            self.__exit__(None, None, None)
            raise CentralError(f"the broker refused the connection: {self._refusal}")
        return self

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """QoS 1; returns once the broker acknowledged it."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(self._timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise CentralError(f"not published on {topic}: {exc}") from None
        if not info.is_published():
            raise CentralError(f"the broker did not acknowledge the message on {topic}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.client.disconnect()
        self.client.loop_stop()
