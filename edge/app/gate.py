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
from edge.app.intake import Intake, desk_lines, document_desk, scan_loop
from edge.app.metrics import gather_metrics
from edge.app.mqtt_link import MqttLink, event_publisher, link_mqtt
from edge.app.presentation import gate_controller, manual_button, visitor_screen
from edge.app.status_faults import StatusFaults
from edge.app.stores import open_stores
from edge.app.supervision import ClockJudge, Supervision, TrustJudge
from edge.app.verification import gate_verifier, platform_checker, trust_store
from edge.app.workers import ControllerWorker
from edge.clock import Clock, SystemClock
from edge.core.records import DecisionRecord
from edge.ports import Heartbeat
from edge.service.clockguard import ClockWatch
from edge.service.lifecycle import Lifecycle
from edge.service.sdnotify import Notifier, Watchdog
from edge.service.supervisor import WorkerSupervisor
from edge.service.workers import Watch, WorkerRegistry

if TYPE_CHECKING:
    from edge.screen.audio import AudioOut

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
        self.clock = clock or SystemClock()
        self._notifier = notifier or Notifier.from_env()
        self._stop = threading.Event()
        self._exit_code = 0
        self._lifecycle = Lifecycle()
        try:
            self._build(config_path, on_decision, audio_out)
        except BaseException:
            # Nothing half-built stays open: close what was opened, newest first.
            self._lifecycle.stop_all()
            raise

    def _build(
        self,
        config_path: str | None,
        on_decision: Callable[[DecisionRecord], None] | None,
        audio_out: AudioOut | None,
    ) -> None:
        """Build the gate's parts; each store is recorded in the lifecycle as soon as it is open."""
        config, hardware, clock, lifecycle = self.config, self.hardware, self.clock, self._lifecycle
        state_dir = Path(config.storage.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        # Verification: the platform, the signed trust files, the one verifier over both.
        self.credentials = platform_checker(config, clock)
        if self.credentials.client is not None:
            lifecycle.started("platform client", self.credentials.client.close)
        self.trust = trust_store(config, clock)
        self.verifier = gate_verifier(config, self.trust, self.credentials, clock)
        # Decisions: the stores, the controller and what sits beside it.
        stores = open_stores(config, state_dir, clock, lifecycle)
        self.outbox = stores.outbox
        lines = desk_lines(hardware, self.credentials)
        self.controller = gate_controller(
            config,
            hardware,
            stores,
            identity_source=hardware.document_reader if lines is None else lines,
            clock=clock,
            on_decision=on_decision,
        )
        self.screen = visitor_screen(config, self.controller, clock, audio_out)
        # Reading: codes from the scanners, ID cards from the desk.
        self.intake = Intake(self.controller, self.credentials)
        self.scan = scan_loop(self.verifier.verify, config, clock, hardware, self.intake)
        self.documents = document_desk(hardware, lines, clock, self.intake)
        self.button = manual_button(config, hardware, self.controller, self._stop, self._show_fault)
        # Central: events and status out, commands in.
        self.publisher = event_publisher(config, self.outbox, clock)
        self._status_faults = None if self.publisher is None else StatusFaults(self.publisher)
        if self._status_faults is not None:
            self.controller.watch_faults(self._status_faults.show_board)
        warning_days = config.trust.expiry_warning_days
        self.trust_judge = TrustJudge(self.trust, self.controller, self.publisher, warning_days)
        self.commands = GateCommands(
            self.controller,
            self.outbox,
            self.trust,
            unopened=hardware.faults,
            status=self.publisher,
            config_path=config_path,
            restart=self.request_stop,
            refetch_trust=lambda: self.mqtt is not None and self.mqtt.control.refetch_trust(),
            check_trust=self.trust_judge.check,
        )
        self.mqtt: MqttLink | None = None
        if self.publisher is not None:
            self.mqtt = link_mqtt(
                config,
                self.publisher,
                commands=self.commands,
                trust=self.trust,
                outbox=self.outbox,
                metrics=self.metrics,
                clock=clock,
                lifecycle=lifecycle,
            )
        # Supervision: workers restarted, judgements made, systemd's watchdog fed.
        self.watchdog = Watchdog(self._notifier, clock)
        supervisor = WorkerSupervisor(self.publisher, clock)
        self.workers = WorkerRegistry(lifecycle, self.watchdog, supervisor)
        clock_watch = ClockWatch(state_dir / "clock-mark", config.trust.clock_skew_s)
        self.clock_judge = ClockJudge(clock_watch, clock, self.controller)
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

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Load trust, connect, start every worker, then tell systemd the gate is ready.

        Each part is recorded in the lifecycle as it starts, so stop() stops exactly what
        started, in reverse order."""
        hardware, workers, lifecycle = self.hardware, self.workers, self._lifecycle
        self.commands.refresh_trust()
        for part, detail in hardware.faults.items():
            self.controller.report_fault(part, detail)
        hardware.attach_faults(self.controller.report_fault, self.controller.clear_fault)
        self.clock_judge.check()
        if self.mqtt is not None:
            self.mqtt.start(workers, lifecycle)
        hardware.start()
        lifecycle.started("relay", hardware.relay.release)
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
        lifecycle.started("worker supervision", workers.stop)
        if self.documents is not None:
            # A card lookup is bounded by the platform's deadline; a loop stuck longer is hung.
            desk_max_age_s = self.config.platform.timeout_ms / 1000 + 5.0
            workers.start(self.documents, "document desk", Watch(desk_max_age_s, restart=False))
        self.supervision.start()
        lifecycle.started("supervisor", self.supervision.stop)
        self.watchdog.start()
        lifecycle.started("watchdog", self.watchdog.stop)
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

    # ---- observation --------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """Telemetry fields: scanner figures, thermometer state, decision counters, clock state."""
        return gather_metrics(
            self.scan,
            self.controller,
            self.hardware.thermometer,
            trust=self.trust.health(self.config.trust.expiry_warning_days),
            platform=self.credentials.client,
            clock=self.clock,
            clock_skew_s=self.config.trust.clock_skew_s,
        ).document()

    def _show_fault(self, name: str, detail: str) -> None:
        """A status-only fault for an unforeseen error in one of the service's own loops."""
        if self.publisher is None:
            return
        try:
            self.publisher.set_fault(name, detail)
        except Exception:
            log.exception("fault %s not shown on the status", name)
