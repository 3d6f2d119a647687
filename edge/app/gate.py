"""The composition root: configuration → drivers → controller → publisher, and their lifecycle."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge import __version__
from edge.app.config import Config
from edge.app.configcheck import check_config_file
from edge.app.hardware import Hardware
from edge.app.status_faults import StatusFaults
from edge.clock import Clock, SystemClock
from edge.core.controller import GateController
from edge.core.faults import fault_reason
from edge.core.records import DecisionRecord, GateState, Indicators
from edge.credentials.formats import gate_verifiers
from edge.errors import ConfigError, GateEdgeError
from edge.events import GateEvent
from edge.mqtt.control import CONTROL_THREAD, ControlPlane
from edge.mqtt.publisher import DISPATCH_THREAD, NETWORK_THREAD_PREFIX, EventPublisher
from edge.mqtt.telemetry import TELEMETRY_THREAD, TelemetryPublisher
from edge.platform.client import PlatformClient
from edge.platform.documents import DocumentDesk
from edge.platform.provider import with_platform
from edge.platform.secret import (
    REFERENCE_KEY_FILE,
    load_or_create_reference_key,
    read_platform_secret,
)
from edge.platform.verifier import CredentialChecker
from edge.ports import Heartbeat
from edge.readfiles import MAX_KEY_BYTES, read_capped
from edge.scan.loop import ScanLoop
from edge.scan.result import ScanFault, ScanResult
from edge.service.clockguard import ClockWatch, judge_clock, kernel_sync_state
from edge.service.journal import log_decision
from edge.service.lifecycle import Lifecycle
from edge.service.sdnotify import Notifier, Watchdog
from edge.service.supervisor import WorkerSupervisor
from edge.storage.outbox import Outbox
from edge.storage.passback_db import DurablePassbackLedger
from edge.storage.trust_store import TrustStore

log = logging.getLogger(__name__)

MQTT_WORKER_THREADS = {
    "mqtt_network": NETWORK_THREAD_PREFIX,
    "mqtt_outbox": DISPATCH_THREAD,
    "mqtt_control": CONTROL_THREAD,
    "mqtt_telemetry": TELEMETRY_THREAD,
}

EXIT_RESTART = 75  # reload-config accepted: systemd restarts the unit (RestartForceExitStatus)
_SUPERVISE_S = 0.5
_CLOCK_CHECK_EVERY_S = 60.0
_REPROBE_EVERY_S = 30.0


def read_root_key(config: Config) -> bytes:
    """The trust-root public key, read before any hardware is touched."""
    path = Path(config.trust.root_public_key)
    try:
        return read_capped(path, MAX_KEY_BYTES)
    except OSError as exc:
        raise ConfigError([f"trust.root_public_key: cannot read {path}: {exc.strerror}"]) from exc


def read_gate_platform_secret(config: Config) -> bytes:
    """The secret shared with the platform, read before any hardware is touched."""
    return read_platform_secret(config.state_path(config.platform.app_secret_file))


def platform_checker(
    config: Config, clock: Clock, reference_key: bytes | None = None
) -> CredentialChecker:
    """The platform of a configuration (without a client when [platform] names none); references
    are keyed by `reference_key`, by default the gate's own key in its state directory."""
    if not config.platform.enabled:
        return CredentialChecker(config.platform, None, b"")
    secret = read_gate_platform_secret(config)
    if reference_key is None:
        reference_key = load_or_create_reference_key(config.state_path(REFERENCE_KEY_FILE))
    terminal = f"{config.gate.site}/{config.gate.gate}"
    client = PlatformClient(config.platform, secret, terminal, clock)
    return CredentialChecker(config.platform, client, reference_key)


def trust_store(config: Config, credentials: CredentialChecker, clock: Clock) -> TrustStore:
    """The trust store verifying through the credential seam, the platform's prefixes first."""
    verifiers = with_platform(
        credentials, config.platform.code_prefixes, gate_verifiers(config.credentials.dcc)
    )
    return TrustStore(
        read_root_key(config),
        config.state_path(config.trust.trust_list),
        config.state_path(config.trust.denylist),
        clock,
        config.trust.clock_skew_s,
        verify=verifiers.verify,
    )


class GateService:
    """Wires every component of one gate and supervises it until asked to stop."""

    def __init__(
        self,
        config: Config,
        hardware: Hardware,
        *,
        clock: Clock | None = None,
        config_path: str | None = None,
        notifier: Notifier | None = None,
        on_decision: Callable[[DecisionRecord], None] | None = None,
    ) -> None:
        self.config, self.hardware = config, hardware
        self.clock = clock or SystemClock()
        self._config_path = config_path
        self._notifier = notifier or Notifier.from_env()
        self._stop = threading.Event()
        self._exit_code = 0
        self._lifecycle = Lifecycle()
        try:
            self._build(config, hardware, on_decision)
        except BaseException:
            # Nothing half-built stays open: close what was opened, newest first.
            self._lifecycle.stop_all()
            raise

    def _build(
        self,
        config: Config,
        hardware: Hardware,
        on_decision: Callable[[DecisionRecord], None] | None,
    ) -> None:
        """Open the gate's stores and build its components; each store is recorded in the
        lifecycle as soon as it is open."""
        state_dir = Path(config.storage.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self._clock_watch = ClockWatch(state_dir / "clock-mark", config.trust.clock_skew_s)
        self.credentials = platform_checker(config, self.clock)
        if self.credentials.client is not None:
            self._lifecycle.started("platform client", self.credentials.client.close)
        self.trust = trust_store(config, self.credentials, self.clock)
        self.documents: DocumentDesk | None = None
        identity_source = hardware.document_reader
        if self.credentials.client is not None and hardware.document_reader is not None:
            self.documents = DocumentDesk(
                hardware.document_reader,
                self.clock,
                busy=lambda: self.controller.status().state != GateState.IDLE,
                on_card=self._on_id_card,
                on_fault=lambda detail: self.controller.announce_fault(
                    "document_reader_fault", detail
                ),
            )
            identity_source = self.documents.identity_lines
        self.passback = DurablePassbackLedger(
            state_dir / "passback.db", config.policy.anti_passback_s, self.clock
        )
        self._lifecycle.started("anti-passback ledger", self.passback.close)
        self.outbox = Outbox(
            state_dir / "outbox.db",
            site=config.gate.site,
            gate=config.gate.gate,
            max_events=config.storage.outbox_max_events,
            max_age_s=config.storage.outbox_max_age_days * 86400.0,
            clock=self.clock,
        )
        self._lifecycle.started("outbox", self._close_outbox)
        io = hardware.io
        self.controller = GateController(
            policy=config.policy,
            relay=hardware.relay,
            thermometer=hardware.thermometer,
            events=self.outbox,
            clock=self.clock,
            identity_source=identity_source,
            passage_input=io.passage,
            indicators=Indicators(green=io.green_lamp, red=io.red_lamp, buzzer=io.buzzer),
            on_decision=on_decision,
            ledger=self.passback,
        )
        self.controller.add_listener(log_decision)
        self.scan = ScanLoop(
            self.trust.verify,
            config.scan,
            self.clock,
            frames=hardware.frames,
            lines=hardware.scanner,
            on_result=self._on_scan,
            on_fault=self._on_scan_fault,
            on_recover=self.controller.clear_fault,
        )
        self.publisher: EventPublisher | None = None
        self.control: ControlPlane | None = None
        self.telemetry: TelemetryPublisher | None = None
        self._status_faults: StatusFaults | None = None
        if config.mqtt.enabled:
            self.publisher = EventPublisher(
                config.mqtt,
                site=config.gate.site,
                gate=config.gate.gate,
                outbox=self.outbox,
                clock=self.clock,
            )
            self._status_faults = StatusFaults(self.publisher)
            self.controller.watch_faults(self._status_faults.show_board)
            self.control = ControlPlane(
                config.mqtt,
                site=config.gate.site,
                gate=config.gate.gate,
                state_dir=state_dir,
                handler=self,
                trust=self.trust,
                status=self.publisher,
                clock=self.clock,
            )
            self._lifecycle.started("command replay store", self.control.stop)
            self.telemetry = TelemetryPublisher(
                self.publisher,
                self.outbox,
                self.metrics,
                config.mqtt.telemetry_interval_s,
                self.clock,
            )
        self.watchdog = Watchdog(self._notifier, self.clock)
        self._supervisor_beat = self.watchdog.register("supervisor", 10.0)
        self.watchdog.register_probe(
            "controller", self.controller.heartbeat, self.controller.longest_wait_s + 10.0
        )
        if hardware.frames is not None or hardware.scanner is not None:
            self.watchdog.register_probe("scanner", self.scan.heartbeat, 10.0)
        if isinstance(hardware.relay, Heartbeat):
            self.watchdog.register_probe("relay", hardware.relay.heartbeat, 5.0)
        if config.thermo.background_sampling:
            self.watchdog.register_probe("thermometer", hardware.thermometer.heartbeat, 5.0)
        self.workers = WorkerSupervisor(self.publisher, self.clock)
        self._trust_warnings: tuple[str, ...] = ()
        self._thread: threading.Thread | None = None
        self._button_thread: threading.Thread | None = None

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Load trust, connect, start every worker, then tell systemd the gate is ready.

        Each part is recorded in the lifecycle as it starts, so stop() stops exactly what
        started, in reverse order."""
        self.refresh_trust()
        for part, detail in self.hardware.faults.items():
            self.controller.report_fault(part, detail)
        self.hardware.attach_faults(self.controller.report_fault, self.controller.clear_fault)
        self._check_clock()
        if self.publisher is not None:
            assert self.control is not None and self.telemetry is not None
            publisher, telemetry = self.publisher, self.telemetry
            # Subscriptions first: the publisher then subscribes in the same breath as it connects.
            self.control.attach(publisher)
            publisher.start()
            self._lifecycle.started("MQTT connection", self._stop_mqtt)
            telemetry.start()
            self._lifecycle.started("telemetry", telemetry.stop)
            # The MQTT workers have no heartbeat of their own; a dead one must stop the pings.
            for name, thread_name in MQTT_WORKER_THREADS.items():
                self.watchdog.register_thread(name, thread_name)
        self.hardware.start()
        self._lifecycle.started("relay", self.hardware.relay.release)
        self.controller.start()
        self._lifecycle.started("gate controller", self.controller.close)
        self.scan.start()
        self._lifecycle.started("scan", self.scan.stop)
        if self.hardware.io.manual_button is not None:
            self._start_button_watch()
            self._lifecycle.started("manual button", self._join_button_watch)
        self._supervise_workers()
        self._lifecycle.started("worker supervision", self.workers.stop)
        if self.documents is not None:
            self.documents.start()
            self._lifecycle.started("document desk", self.documents.stop)
            # Beats once per card at most: one platform check plus a reader poll and margin.
            desk_max_age_s = self.config.platform.timeout_ms / 1000.0 + 5.0
            self.watchdog.register_probe("document_desk", self.documents.heartbeat, desk_max_age_s)
        self._thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._thread.start()
        self._lifecycle.started("supervisor", self._join_supervisor)
        self.watchdog.start()
        self._lifecycle.started("watchdog", self.watchdog.stop)
        self._notifier.ready()
        self._notifier.status(f"running: gate {self.config.gate.site}/{self.config.gate.gate}")
        log.info("gate-edge %s running", __version__)

    def request_stop(self, exit_code: int = 0) -> None:
        """Ask the service to stop (safe from signal handlers and other threads)."""
        self._exit_code = exit_code
        self._stop.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until a stop is requested (True) or the timeout passes (False)."""
        return self._stop.wait(timeout_s)

    def stop(self) -> int:
        """Shut the gate, flush the outbox within the configured bound; return the exit code.

        Every thread of the service stops the same way: the stop flag is set first (the loops
        wait on it), then each part is stopped and joined, newest first, each stop guarded so
        that a failing one never skips the rest; the hardware is closed last."""
        self._stop.set()
        self._guarded("systemd notification", self._notifier.stopping)
        self._lifecycle.stop_all()
        self._guarded("hardware", self.hardware.close)
        return self._exit_code

    def stopping_order(self) -> tuple[str, ...]:
        """What stop() would stop now, in its order (the hardware comes last)."""
        return (*self._lifecycle.names(), "hardware")

    def _guarded(self, name: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:
            log.exception("stopping %s failed; stopping the rest", name)

    def _stop_mqtt(self) -> None:
        """The control plane stops taking commands, then the outbox is drained and the
        connection closed with an offline status."""
        assert self.control is not None and self.publisher is not None
        try:
            self.control.stop()
        finally:
            self.publisher.stop(drain_timeout_s=self.config.service.shutdown_flush_s)

    def _close_outbox(self) -> None:
        pending = self.outbox.depth()
        if pending:
            log.warning("%d event(s) stay in the outbox for the next start", pending)
        self.outbox.close()

    def _join_supervisor(self) -> None:
        if self._thread is not None:
            self._thread.join(2.0)

    def _join_button_watch(self) -> None:
        thread = self._button_thread
        if thread is not None:
            thread.join(2.0)

    # ---- control plane (CommandHandler) -------------------------------------------------------

    def open_once(self, operator: str, command_id: str) -> None:
        """A manual pass authorised by central: still subject to the temperature check."""
        if self.controller.handle_manual(operator, "central", command_id):
            return
        log.warning("open-once %s refused: the gate is busy with another person", command_id)
        # The command id is spent (replays are refused), so central must see what became of it.
        refusal = GateEvent(
            kind="decision",
            decision="deny",
            reasons=("gate_busy",),
            method="manual",
            operator=operator,
            detail=f"open-once {command_id[:64]} arrived during another presentation",
        )
        try:
            self.outbox.emit(refusal)
        except GateEdgeError as exc:
            log.error("open-once refusal could not be stored: %s", exc)

    def reload_config(self) -> None:
        """Validate the configuration file again; if valid, restart to apply it."""
        if self._config_path is None:
            log.warning("reload-config: this gate was not started from a configuration file")
            return
        try:
            check_config_file(self._config_path)
        except ConfigError as exc:
            log.error("reload-config refused: %s", exc)
            if self.publisher is not None:
                self.publisher.set_fault("config", "; ".join(exc.problems)[:500])
            return
        log.info("reload-config: configuration valid, restarting to apply it")
        self.request_stop(EXIT_RESTART)

    def clear_fault(self, fault: str, command_id: str) -> None:
        """clear-fault from central: lift a latched fault. A device that could not be opened at
        start is opened again by restarting the service."""
        reason = fault_reason(fault)
        if reason not in self.controller.faults:
            log.warning("clear-fault %s: %s is not active", command_id[:64], reason)
            return
        unopened = {fault_reason(part) for part in self.hardware.faults}
        if reason in unopened:
            log.warning("clear-fault %s: restarting to open the device again", reason)
            self.request_stop(EXIT_RESTART)
            return
        log.warning("clear-fault %s: lifted by central command %s", reason, command_id[:64])
        self.controller.clear_fault(reason)

    def refresh_trust(self) -> None:
        """Re-read the persisted trust list and denylist, and ask the broker for the retained
        ones again; a refused file (bad signature, rollback, expired while a good one is loaded)
        is logged and shown on the status topic."""
        self.trust.load()
        if self.control is not None and self.control.refetch_trust():
            log.info("refresh-trust: retained trust list and denylist requested again")
        for problem in self.trust.problems:
            log.error("trust: %s", problem)
        if self.publisher is not None:
            if self.trust.problems:
                self.publisher.set_fault("trust-files", "; ".join(self.trust.problems)[:500])
            else:
                self.publisher.clear_fault("trust-files")
        self._check_trust()

    # ---- observation --------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """Telemetry: scanner figures, thermometer state, decision counters, clock state."""
        scan = self.scan.stats()
        status = self.controller.status()
        clock = judge_clock(
            self.clock.now(), None, self.config.trust.clock_skew_s, kernel_sync_state()
        )
        metrics: dict[str, Any] = {
            "fps": scan.get("fps", 0.0),
            "decode_ms_p50": scan.get("decode_ms_p50"),
            "decode_ms_p95": scan.get("decode_ms_p95"),
            "thermometer": "on_demand",
            "state": status.state.value,
            "faults": ",".join(sorted(status.faults)),
            "presentations": status.presentations,
            "passes": status.passes,
            "denies": status.denies,
            "dropped_presentations": status.dropped,
            "clock_offset_s": clock.offset_s,
            "clock_synchronized": clock.synchronized,
            "clock_max_error_ms": clock.max_error_ms,
            **self.trust.health(self.config.trust.expiry_warning_days).telemetry(),
        }
        client = self.credentials.client
        if client is not None:
            metrics.update(
                platform_breakers=",".join(f"{u}={s}" for u, s in client.breakers().items()),
                platform_online=client.counts["online"],
                platform_cache=client.counts["cache"],
                platform_failed=client.counts["failed"],
            )
        stats = self.hardware.thermometer.stats()
        metrics.update(
            thermometer=str(stats.state),
            thermometer_object_c=stats.last_object_c,
            thermometer_ambient_c=stats.last_ambient_c,
            thermometer_faults=stats.faults,
        )
        return metrics

    def _on_scan_fault(self, fault: ScanFault) -> None:
        self.controller.report_fault(fault.component, str(fault))

    def _on_scan(self, result: ScanResult) -> None:
        self.controller.handle_scan(
            result.source, result.verification, result.decode_ms, result.frame_time
        )

    def _supervise_workers(self) -> None:
        """Every worker thread of the service is restarted by self.workers if it dies."""
        self.workers.watch(
            "gate-controller", self.controller.worker_alive, self.controller.revive_worker
        )
        self.workers.watch("scan", self.scan.alive, self.scan.revive)
        if self._button_thread is not None:
            self.workers.watch("manual-button", self._button_alive, self._start_button_watch)
        if self.publisher is not None:
            assert self.control is not None and self.telemetry is not None
            publisher = self.publisher
            self.workers.watch("mqtt-network", publisher.network_alive, publisher.revive)
            self.workers.watch("mqtt-outbox", publisher.dispatcher_alive, publisher.revive)
            self.workers.watch("mqtt-control", self.control.worker_alive, self.control.revive)
            self.workers.watch("mqtt-telemetry", self.telemetry.alive, self.telemetry.revive)

    def _button_alive(self) -> bool:
        thread = self._button_thread
        return thread is not None and thread.is_alive()

    def _start_button_watch(self) -> None:
        if self._stop.is_set():
            return
        self._button_thread = threading.Thread(
            target=self._watch_button, name="manual-button", daemon=True
        )
        self._button_thread.start()

    def _on_id_card(self, line: str, read_at: float) -> None:
        """A resident ID card at an idle gate: the platform's answer is the credential."""
        verification = self.credentials.verify_id(line)
        if not self.controller.handle_scan("id_card", verification, 0.0, read_at):
            log.info("ID card ignored: the gate is busy")

    def _watch_button(self) -> None:
        button = self.hardware.io.manual_button
        assert button is not None
        while not self._stop.is_set():
            try:
                pressed = button.wait_for_active(0.5)
                if "manual_button_fault" in self.controller.faults:
                    self.controller.clear_fault("manual_button")  # the input reads again
                if pressed and not self._stop.is_set():
                    operator = self.config.policy.button_operator
                    if not self.controller.handle_manual(operator, "button", None):
                        log.info("manual button ignored: the gate is busy")
                    while button.is_active() and not self._stop.wait(0.05):
                        pass  # one press, one request: wait for the release
            except GateEdgeError as exc:
                self.controller.report_fault("manual_button", str(exc))
                self._stop.wait(1.0)
            except Exception as exc:
                log.exception("manual button watch failed")
                self._show_fault("manual-button", f"watch error: {type(exc).__name__}")
                self._stop.wait(1.0)

    def _supervise(self) -> None:
        last_mark = last_probe = 0.0
        while not self._stop.wait(_SUPERVISE_S):
            self._supervisor_beat()
            try:
                self.workers.check()
                if time.monotonic() - last_probe >= _REPROBE_EVERY_S:
                    self.controller.reprobe()
                    last_probe = time.monotonic()
                self._check_trust()
                self.controller.expire_faults()
                self._show_platform_faults()
                if time.monotonic() - last_mark >= _CLOCK_CHECK_EVERY_S:
                    self._check_clock()
                    last_mark = time.monotonic()
            except GateEdgeError as exc:
                log.error("supervision: %s", exc)
            except Exception as exc:
                log.exception("supervision failed; trying again")
                self._show_fault("supervisor", f"supervision error: {type(exc).__name__}")

    def _show_fault(self, name: str, detail: str) -> None:
        """A status-only fault for an unforeseen error in one of the service's own loops."""
        if self.publisher is None:
            return
        try:
            self.publisher.set_fault(name, detail)
        except Exception:
            log.exception("fault %s not shown on the status", name)

    def _show_platform_faults(self) -> None:
        """Show the platforms whose breaker is open beside the controller's faults (those are
        pushed by the controller's fault board as they change)."""
        if self._status_faults is not None:
            self._status_faults.show_platform(self._platform_faults())

    def _platform_faults(self) -> dict[str, str]:
        """Platforms whose circuit breaker is open: the gate is not waiting for them."""
        client = self.credentials.client
        if client is None:
            return {}
        causes = client.last_failures()
        tripped = [
            f"{url} {state}" + (f" ({causes[url]})" if url in causes else "")
            for url, state in client.breakers().items()
            if state != "closed"
        ]
        if not tripped:
            return {}
        return {"platform_breaker": "fallback in use: " + ", ".join(tripped)}

    def _check_trust(self) -> None:
        """Latch trust_fault while every code would be denied (no usable trust list, or an
        expired denylist), report a missing denylist, warn ahead of expiry. Cleared on its own
        once a good list is installed (retained update, refresh-trust or a restart)."""
        health = self.trust.health(self.config.trust.expiry_warning_days)
        checks = (("trust", health.blocking), ("denylist", health.denylist_problem))
        for component, problem in checks:
            if problem:
                self.controller.report_fault(component, problem)
            elif f"{component}_fault" in self.controller.faults:
                self.controller.clear_fault(component)
        if health.warnings != self._trust_warnings:
            for warning in health.warnings:
                log.warning("trust: %s", warning)
            self._trust_warnings = health.warnings
        if self.publisher is not None:
            self.publisher.set_trust(health.summary())

    def _check_clock(self) -> None:
        verdict = self._clock_watch.check(self.clock.now(), self.clock.monotonic())
        if not verdict.usable:
            self.controller.report_fault("clock", verdict.problem or "clock unusable")
        elif "clock_fault" in self.controller.faults:
            self.controller.clear_fault("clock")
