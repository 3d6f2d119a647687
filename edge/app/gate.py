"""The composition root: configuration → drivers → controller → publisher, and their lifecycle."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge import __version__
from edge.app.commands import GateCommands
from edge.app.config import Config
from edge.app.hardware import Hardware
from edge.app.metrics import GateMetrics, gather_metrics
from edge.app.status_faults import StatusFaults
from edge.app.supervision import ClockJudge, Supervision, TrustJudge
from edge.app.verification import gate_verifier, platform_checker, trust_store
from edge.app.workers import ControllerWorker, mqtt_threads
from edge.clock import Clock, SystemClock
from edge.core.button import ButtonWatch
from edge.core.controller import GateController
from edge.core.records import DecisionRecord, GateState, Indicators
from edge.core.steps import GateDevices
from edge.faults import Fault
from edge.mqtt.control import ControlPlane
from edge.mqtt.publisher import EventPublisher
from edge.mqtt.telemetry import TelemetryPublisher
from edge.platform.desk import DocumentDesk
from edge.ports import Heartbeat
from edge.scan.loop import ScanLoop
from edge.scan.result import ScanFault, ScanResult
from edge.service.clockguard import ClockWatch
from edge.service.journal import log_decision
from edge.service.lifecycle import Lifecycle
from edge.service.release import rollback_notice
from edge.service.sdnotify import Notifier, Watchdog
from edge.service.supervisor import WorkerSupervisor
from edge.service.workers import Watch, WorkerRegistry
from edge.storage.decision_log import DECISIONS_FILE, DecisionLog
from edge.storage.outbox import Outbox
from edge.storage.passback_db import DurablePassbackLedger

if TYPE_CHECKING:
    from edge.screen.audio import AudioOut
    from edge.screen.service import VisitorScreen

log = logging.getLogger(__name__)


class GateService:
    """Wires every component of one gate, starts them in order and stops them in reverse."""

    def __init__(
        self,
        config: Config,
        hardware: Hardware,
        *,
        clock: Clock | None = None,
        config_path: str | None = None,
        notifier: Notifier | None = None,
        on_decision: Callable[[DecisionRecord], None] | None = None,
        audio_out: AudioOut | None = None,
    ) -> None:
        self.config, self.hardware = config, hardware
        self._audio_out = audio_out
        self.clock = clock or SystemClock()
        self._notifier = notifier or Notifier.from_env()
        self._stop = threading.Event()
        self._exit_code = 0
        self._lifecycle = Lifecycle()
        try:
            self._build(config, hardware, config_path, on_decision)
        except BaseException:
            # Nothing half-built stays open: close what was opened, newest first.
            self._lifecycle.stop_all()
            raise

    def _build(
        self,
        config: Config,
        hardware: Hardware,
        config_path: str | None,
        on_decision: Callable[[DecisionRecord], None] | None,
    ) -> None:
        """Open the gate's stores and build its components; each store is recorded in the
        lifecycle as soon as it is open."""
        state_dir = Path(config.storage.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.credentials = platform_checker(config, self.clock)
        if self.credentials.client is not None:
            self._lifecycle.started("platform client", self.credentials.client.close)
        self.trust = trust_store(config, self.clock)
        self.verifier = gate_verifier(config, self.trust, self.credentials, self.clock)
        self.documents: DocumentDesk | None = None
        identity_source = hardware.document_reader
        if self.credentials.client is not None and hardware.document_reader is not None:
            self.documents = DocumentDesk(
                hardware.document_reader,
                self.clock,
                busy=lambda: self.controller.status().state != GateState.IDLE,
                on_card=self._on_id_card,
                on_fault=lambda detail: self.controller.announce_fault(
                    Fault.DOCUMENT_READER_FAULT, detail
                ),
            )
            identity_source = self.documents.identity_lines
        self.passback = DurablePassbackLedger(
            state_dir / "passback.db", config.policy.anti_passback_s, self.clock
        )
        self._lifecycle.started("anti-passback ledger", self.passback.close)
        self.decisions = DecisionLog(state_dir / DECISIONS_FILE)
        self._lifecycle.started("decisions log", self.decisions.close)
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
            devices=GateDevices(
                relay=hardware.relay,
                thermometer=hardware.thermometer,
                identity_source=identity_source,
                passage_input=io.passage,
                indicators=Indicators(green=io.green_lamp, red=io.red_lamp, buzzer=io.buzzer),
            ),
            events=self.outbox,
            clock=self.clock,
            on_decision=on_decision,
            ledger=self.passback,
        )
        self.controller.add_listener(log_decision)
        self.controller.add_listener(self.decisions.record)
        self.screen: VisitorScreen | None = None
        if config.screen.enabled or config.voice.enabled:
            # Only a gate with a screen or a voice loads them (HTTP server, audio).
            from edge.screen.service import VisitorScreen  # noqa: PLC0415

            self.screen = VisitorScreen(
                config.screen, config.voice, self.clock, state_dir, self._audio_out
            )
            self.screen.attach(self.controller)
        self.scan = ScanLoop(
            self.verifier.verify,
            config.scan,
            self.clock,
            frames=hardware.frames,
            lines=hardware.scanner,
            on_result=self._on_scan,
            on_fault=self._on_scan_fault,
            on_recover=lambda component: self.controller.clear_fault(component.fault),
        )
        self.button: ButtonWatch | None = None
        if io.manual_button is not None:
            self.button = ButtonWatch(
                io.manual_button,
                self.controller,
                config.policy.button_operator,
                self._stop,
                self._show_fault,
            )
        self.publisher: EventPublisher | None = None
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
        self.trust_judge = TrustJudge(
            self.trust, self.controller, self.publisher, config.trust.expiry_warning_days
        )
        self.commands = GateCommands(
            self.controller,
            self.outbox,
            self.trust,
            unopened=hardware.faults,
            status=self.publisher,
            config_path=config_path,
            restart=self.request_stop,
            refetch_trust=lambda: self.control is not None and self.control.refetch_trust(),
            check_trust=self.trust_judge.check,
        )
        self._build_mqtt(config, state_dir)
        self.watchdog = Watchdog(self._notifier, self.clock)
        self.workers = WorkerRegistry(
            self._lifecycle, self.watchdog, WorkerSupervisor(self.publisher, self.clock)
        )
        self.clock_judge = ClockJudge(
            ClockWatch(state_dir / "clock-mark", config.trust.clock_skew_s),
            self.clock,
            self.controller,
        )
        self.supervision = Supervision(
            workers=self.workers,
            controller=self.controller,
            trust=self.trust_judge,
            clock=self.clock_judge,
            platform=self.credentials.client,
            status=self._status_faults,
            show_fault=self._show_fault,
            beat=self.watchdog.register("supervisor", 10.0),
            stopping=self._stop,
        )

    def _build_mqtt(self, config: Config, state_dir: Path) -> None:
        """The control plane and telemetry, beside the publisher."""
        self.control: ControlPlane | None = None
        self.telemetry: TelemetryPublisher | None = None
        if self.publisher is None:
            return
        self.control = ControlPlane(
            config.mqtt,
            site=config.gate.site,
            gate=config.gate.gate,
            state_dir=state_dir,
            handler=self.commands,
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

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Load trust, connect, start every worker, then tell systemd the gate is ready.

        Each part is recorded in the lifecycle as it starts, so stop() stops exactly what
        started, in reverse order."""
        hardware, workers = self.hardware, self.workers
        self.commands.refresh_trust()
        for part, detail in hardware.faults.items():
            self.controller.report_fault(part, detail)
        hardware.attach_faults(self.controller.report_fault, self.controller.clear_fault)
        self.clock_judge.check()
        if self.publisher is not None:
            assert self.control is not None and self.telemetry is not None
            # Subscriptions first: the publisher then subscribes in the same breath as it connects.
            self.control.attach(self.publisher)
            self.publisher.start()
            self._lifecycle.started("MQTT connection", self._stop_mqtt)
            workers.start(self.telemetry, "telemetry", Watch(max_age_s=5.0))
            for thread in mqtt_threads(self.publisher, self.control):
                workers.watch(thread, Watch(max_age_s=5.0))
            notice = rollback_notice(Path(self.config.storage.state_dir))
            if notice is not None:
                log.warning("%s", notice)
                self.publisher.set_fault(Fault.RELEASE, notice)
        hardware.start()
        self._lifecycle.started("relay", hardware.relay.release)
        if self.screen is not None:
            # Before the controller, so the page shows its first state.
            workers.start(self.screen, "visitor screen", Watch())
        controller_age_s = self.controller.longest_wait_s + 10.0
        workers.start(ControllerWorker(self.controller), "gate controller", Watch(controller_age_s))
        scanning = hardware.frames is not None or hardware.scanner is not None
        workers.start(self.scan, "scan", Watch(max_age_s=10.0 if scanning else None))
        if self.button is not None:
            workers.start(self.button, "manual button", Watch())
        if isinstance(hardware.relay, Heartbeat):
            self.watchdog.register_probe("relay", hardware.relay.heartbeat, 5.0)
        if self.config.thermo.background_sampling:
            self.watchdog.register_probe("thermometer", hardware.thermometer.heartbeat, 5.0)
        self._lifecycle.started("worker supervision", workers.stop)
        if self.documents is not None:
            # A card lookup is bounded by the platform's deadline; a loop stuck longer is hung.
            desk_max_age_s = self.config.platform.timeout_ms / 1000 + 5.0
            workers.start(self.documents, "document desk", Watch(desk_max_age_s, restart=False))
        self.supervision.start()
        self._lifecycle.started("supervisor", self.supervision.stop)
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

    # ---- observation --------------------------------------------------------------------------

    def gate_metrics(self) -> GateMetrics:
        """The gate's telemetry figures now, typed."""
        return gather_metrics(
            self.scan,
            self.controller,
            self.hardware.thermometer,
            trust=self.trust.health(self.config.trust.expiry_warning_days),
            platform=self.credentials.client,
            clock=self.clock,
            clock_skew_s=self.config.trust.clock_skew_s,
        )

    def metrics(self) -> dict[str, Any]:
        """Telemetry fields: scanner figures, thermometer state, decision counters, clock state."""
        return self.gate_metrics().document()

    # ---- wiring -------------------------------------------------------------------------------

    def _on_scan_fault(self, fault: ScanFault) -> None:
        self.controller.report_fault(fault.component.fault, str(fault))

    def _on_scan(self, result: ScanResult) -> None:
        self.controller.handle_scan(
            result.source, result.verification, result.decode_ms, result.frame_time
        )

    def _on_id_card(self, line: str, read_at: float) -> None:
        """A resident ID card at an idle gate: the platform's answer is the credential."""
        verification = self.credentials.verify_id(line)
        if not self.controller.handle_scan("id_card", verification, 0.0, read_at):
            log.info("ID card ignored: the gate is busy")

    def _show_fault(self, name: str, detail: str) -> None:
        """A status-only fault for an unforeseen error in one of the service's own loops."""
        if self.publisher is None:
            return
        try:
            self.publisher.set_fault(name, detail)
        except Exception:
            log.exception("fault %s not shown on the status", name)
