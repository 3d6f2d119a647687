"""Name why the broker cannot be used: DNS, refused, TLS, certificate, authorisation, take-over."""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.errors import PublishError
from edge.mqtt.settings import MqttSettings
from edge.wire.broker_url import BrokerAddress, parse_broker_url

log = logging.getLogger(__name__)

_ALERT_WAIT_S = 0.5
_SHORT_SESSION_S = 10.0
_FLAPS = 3


@dataclass(frozen=True)
class BrokerDiagnosis:
    """Why the broker could (not) be used: a stable cause, what happened and what to do."""

    cause: str
    detail: str
    fix: str

    @property
    def ok(self) -> bool:
        """Tell whether the broker could be used."""
        return self.cause == "ok"

    def describe(self) -> str:
        """Say in one line what happened and, on a failure, what to do about it."""
        return self.detail if self.ok else f"{self.cause}: {self.detail}; fix: {self.fix}"


def _fail(cause: str, detail: str, fix: str) -> BrokerDiagnosis:
    return BrokerDiagnosis(cause, detail, fix)


def diagnose_transport(settings: MqttSettings, timeout_s: float = 5.0) -> BrokerDiagnosis:
    """Resolve, connect and (for mqtts://) complete TLS, waiting briefly for a certificate alert."""
    try:
        address = parse_broker_url(settings.broker)
    except PublishError as exc:
        return _fail("config", str(exc), "set mqtt.broker to mqtt://host:port or mqtts://host:port")
    where = f"{address.host}:{address.port}"
    try:
        socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return _fail(
            "dns",
            f"cannot resolve {address.host}: {getattr(exc, 'strerror', None) or exc}",
            "check the host name in mqtt.broker and the DNS servers (resolvectl status)",
        )
    try:
        sock = socket.create_connection((address.host, address.port), timeout=timeout_s)
    except ConnectionRefusedError:
        return _fail(
            "refused",
            f"{where} refused the connection (nothing listens on that port)",
            "check the port in mqtt.broker and that the broker runs",
        )
    except TimeoutError:
        return _fail(
            "timeout",
            f"no answer from {where} within {timeout_s:g} s",
            "check the network path and firewall to the broker",
        )
    except OSError as exc:
        return _fail(
            "unreachable",
            f"cannot reach {where}: {exc.strerror or exc}",
            "check the network (ip route, cable, Wi-Fi)",
        )
    try:
        if address.tls:
            return _diagnose_tls(sock, address, settings, timeout_s)
        return BrokerDiagnosis("ok", f"TCP connection to {where}", "")
    finally:
        sock.close()


def _diagnose_tls(
    sock: socket.socket, address: BrokerAddress, settings: MqttSettings, timeout_s: float
) -> BrokerDiagnosis:
    where = f"{address.host}:{address.port}"
    ca = settings.ca_file or "the system CA store"
    try:
        context = ssl.create_default_context(cafile=settings.ca_file or None)
        if settings.cert_file:
            context.load_cert_chain(settings.cert_file, settings.key_file or None)
    except (OSError, ssl.SSLError) as exc:
        files = ", ".join(f for f in (settings.ca_file, settings.cert_file, settings.key_file) if f)
        return _fail(
            "tls_files",
            f"cannot load the TLS files ({files}): {getattr(exc, 'strerror', None) or exc}",
            "check mqtt.ca_file, mqtt.cert_file and mqtt.key_file exist, are PEM and belong "
            "together (the key must match the certificate)",
        )
    sock.settimeout(timeout_s)
    try:
        tls = context.wrap_socket(sock, server_hostname=address.host)
    except ssl.SSLCertVerificationError as exc:
        return _fail(
            "tls_verify",
            f"the broker's certificate at {where} does not verify against {ca}: "
            f"{exc.verify_message}",
            f"mqtt.ca_file ({ca}) must hold the CA that signed the broker's certificate, and the "
            "broker's name must match the host in mqtt.broker",
        )
    except ssl.SSLError as exc:
        return _tls_error(exc, where)
    except (ConnectionResetError, BrokenPipeError, TimeoutError) as exc:
        return _fail(
            "tls_not_offered",
            f"{where} dropped the TLS handshake ({type(exc).__name__})",
            "the port may be a plain MQTT port: use mqtt:// or the broker's TLS port (8883)",
        )
    try:
        # Under TLS 1.3 the broker judges the client certificate after the handshake: a refusal
        # arrives as an alert on the first read, before any MQTT packet is exchanged.
        tls.settimeout(_ALERT_WAIT_S)
        try:
            tls.recv(1)
        except TimeoutError:
            pass
        except ssl.SSLError as exc:
            return _tls_error(exc, where)
        except (ConnectionResetError, BrokenPipeError) as exc:
            return _certificate_rejected(where, type(exc).__name__)
    finally:
        tls.close()
    identity = f" with client certificate {settings.cert_file}" if settings.cert_file else ""
    return BrokerDiagnosis("ok", f"TLS to {where} verified against {ca}{identity}", "")


def _tls_error(exc: ssl.SSLError, where: str) -> BrokerDiagnosis:
    reason = (exc.reason or str(exc)).lower()
    if "wrong_version" in reason or "record_layer" in reason or "packet_length" in reason:
        return _fail(
            "tls_not_offered",
            f"{where} does not speak TLS ({exc.reason})",
            "the port is a plain MQTT port: use mqtt:// or the broker's TLS port (8883)",
        )
    if "alert" in reason or "certificate" in reason:
        return _certificate_rejected(where, exc.reason or str(exc))
    return _fail("tls", f"TLS with {where} failed: {exc.reason or exc}", "see the broker's log")


def _certificate_rejected(where: str, why: str) -> BrokerDiagnosis:
    return _fail(
        "certificate_rejected",
        f"the broker at {where} rejected the gate's client certificate ({why})",
        "the device certificate (mqtt.cert_file) must be signed by the CA the broker trusts, "
        "unexpired, and match mqtt.key_file; without one, set mqtt.cert_file",
    )


def diagnose_connack(reason: ReasonCode, client_id: str) -> BrokerDiagnosis:
    """Name a refused CONNECT."""
    text = str(reason)
    if reason.value in (0x86, 0x87, 0x05, 0x04):  # bad user name or password / not authorised
        return _fail(
            "not_authorised",
            f"the broker refused client {client_id}: {text}",
            "check mqtt.username/mqtt.password or that the broker's ACL lists this gate's "
            "certificate name",
        )
    if reason.value == 0x85:
        return _fail(
            "client_id_refused",
            f"the broker refused client id {client_id}",
            "set mqtt.client_id to an id the broker accepts",
        )
    return _fail("refused_by_broker", f"the broker refused the connection: {text}", "see its log")


def diagnose_disconnect(reason: ReasonCode, client_id: str) -> BrokerDiagnosis | None:
    """Name a disconnect the technician must act on (None for ordinary ones)."""
    if reason.value == 0x8E:
        return _fail(
            "taken_over",
            f"another client connected with the same client id {client_id}",
            "every gate needs its own mqtt.client_id (or site/gate); stop the other client",
        )
    if reason.value == 0x87:
        return diagnose_connack(reason, client_id)
    return None


def probe_broker(settings: MqttSettings, client_id: str, timeout_s: float = 5.0) -> BrokerDiagnosis:
    """Transport first, then an MQTT CONNECT with the gate's identity (clean, throw-away session).

    `client_id` should not be the service's own, so that a running gate keeps its session.
    """
    transport = diagnose_transport(settings, timeout_s)
    if not transport.ok:
        return transport
    address = parse_broker_url(settings.broker)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if settings.username:
        client.username_pw_set(settings.username, settings.password or None)
    if address.tls:
        client.tls_set(
            ca_certs=settings.ca_file or None,
            certfile=settings.cert_file or None,
            keyfile=settings.key_file or None,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    answer: list[ReasonCode] = []
    done = threading.Event()

    def on_connect(c: mqtt.Client, u: Any, flags: Any, reason: ReasonCode, p: Any) -> None:
        answer.append(reason)
        done.set()

    def on_disconnect(c: mqtt.Client, u: Any, flags: Any, reason: ReasonCode, p: Any) -> None:
        done.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    try:
        client.connect(address.host, address.port, keepalive=10, clean_start=True, properties=props)
    except (OSError, ValueError) as exc:
        return _fail("connect", f"MQTT connect failed: {exc}", "see the broker's log")
    client.loop_start()
    try:
        if not done.wait(timeout_s) or not answer:
            return _fail(
                "no_connack",
                f"the broker did not answer the MQTT CONNECT within {timeout_s:g} s",
                "check that the port is an MQTT listener and the broker's log",
            )
        if answer[0].is_failure:
            return diagnose_connack(answer[0], client_id)
    finally:
        client.disconnect()
        client.loop_stop()
    return BrokerDiagnosis("ok", f"{transport.detail}; MQTT CONNECT accepted", "")


def tool_client_id(settings: MqttSettings, site: str, gate: str, role: str) -> str:
    """A client id for a short-lived tool beside the service (never the service's own)."""
    base = settings.client_id or f"gate-edge-{site}-{gate}"
    return f"{base}-{role}-{os.getpid()}"


class TroubleReporter:
    """After a failed connection, finds the cause in the background and logs it at warning
    level: once per new cause, again every `repeat_s` while it lasts."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        logger: logging.Logger,
        repeat_s: float = 600.0,
        quiet: bool = False,
    ) -> None:
        """`quiet`: only remember the cause (a tool prints it itself when it gives up)."""
        self._settings, self._client_id, self._log = settings, client_id, logger
        self._quiet = quiet
        self._repeat_s = repeat_s
        self._lock = threading.Lock()
        self._running = False
        self._last: BrokerDiagnosis | None = None
        self._logged: BrokerDiagnosis | None = None
        self._logged_at = 0.0
        self._short_sessions: list[tuple[float, str | None]] = []

    @property
    def last(self) -> BrokerDiagnosis | None:
        """The cause of the latest failure; None once connected."""
        with self._lock:
            return self._last

    def connection_failed(self) -> None:
        """The connection could not be made or broke before CONNACK: diagnose it (once at a
        time, never on the caller's thread)."""
        with self._lock:
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._diagnose, name="mqtt-diagnose", daemon=True).start()

    def report(self, diagnosis: BrokerDiagnosis) -> None:
        """Log a named cause unless the same one was logged recently."""
        now = time.monotonic()
        with self._lock:
            self._last = diagnosis
            repeat = self._logged == diagnosis and now - self._logged_at < self._repeat_s
            if not repeat:
                self._logged, self._logged_at = diagnosis, now
        if not repeat and not diagnosis.ok and not self._quiet:
            self._log.warning("broker connection: %s", diagnosis.describe())

    def connected(self) -> None:
        """Forget the last failure: the broker has accepted the connection."""
        with self._lock:
            self._last = None

    def session_ended(self, lasted_s: float, *, unacked_topic: str | None = None) -> None:
        """An accepted connection was closed by the broker. Brokers that do not send "session
        taken over" simply close the older of two clients sharing an id; both then flap, so
        several short sessions in a row are reported as a client id taken over. When each of
        them ended right after an unacknowledged publish (`unacked_topic`), the broker is
        refusing the writes by closing the connection instead."""
        now = time.monotonic()
        with self._lock:
            if lasted_s < _SHORT_SESSION_S:
                self._short_sessions = [s for s in self._short_sessions if now - s[0] < 60.0]
                self._short_sessions.append((now, unacked_topic))
            else:
                self._short_sessions = []
            recent = list(self._short_sessions)
        if len(recent) < _FLAPS:
            return
        topics = {topic for _, topic in recent[-_FLAPS:]}
        if None not in topics:
            self.report(
                _fail(
                    "not_authorised",
                    f"the broker closed the connection {_FLAPS} times right after this client "
                    f"({self._client_id}) published to {', '.join(sorted(t or '' for t in topics))}"
                    ": it refuses those writes",
                    "the broker's ACL must let this gate write its topics "
                    "(deploy/rpi/mosquitto/acl.example shows the lines)",
                )
            )
            return
        self.report(
            _fail(
                "taken_over",
                f"the broker closed the connection {_FLAPS} times within a minute right after "
                f"accepting it: another client probably uses the same client id "
                f"{self._client_id}",
                "every gate needs its own mqtt.client_id (or site/gate); stop the other client",
            )
        )

    def _diagnose(self) -> None:
        try:
            diagnosis = diagnose_transport(self._settings)
            if diagnosis.ok:
                with self._lock:
                    known = self._last
                if known is not None and not known.ok:
                    return  # the broker already named it (a refused CONNECT): keep that
                diagnosis = _fail(
                    "connection_lost",
                    f"{diagnosis.detail}, but the MQTT connection failed",
                    "see the broker's log for client " + self._client_id,
                )
            self.report(diagnosis)
        except Exception:
            log.exception("broker diagnosis failed")
        finally:
            with self._lock:
                self._running = False
