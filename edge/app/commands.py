"""What the gate does for a signed command from central (open-once, reload-config, ...)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from edge.app.configcheck import check_config_file
from edge.app.status_faults import FaultDisplay
from edge.core.controller import GateController
from edge.errors import ConfigError, GateEdgeError
from edge.events import GateEvent
from edge.faults import Fault
from edge.reasons import Reason
from edge.storage.outbox import Outbox
from edge.storage.trust_store import TrustStore

log = logging.getLogger(__name__)

EXIT_RESTART = 75  # reload-config accepted: systemd restarts the unit (RestartForceExitStatus)


class GateCommands:
    """The control plane's handler: each accepted command acts on the controller, the trust
    files or the service's run, never on the hardware directly.

    `restart(code)` asks the service to stop with that exit code; `refetch_trust()` asks the
    broker for the retained trust documents again; `check_trust()` judges the loaded ones."""

    def __init__(  # noqa: PLR0913  keyword-only: the objects and hooks the composition root wires in
        self,
        controller: GateController,
        outbox: Outbox,
        trust: TrustStore,
        *,
        unopened: Mapping[Fault, str],
        status: FaultDisplay | None,
        config_path: str | None,
        restart: Callable[[int], None],
        refetch_trust: Callable[[], bool],
        check_trust: Callable[[], None],
    ) -> None:
        self._controller, self._outbox, self._trust = controller, outbox, trust
        self._unopened, self._status = unopened, status
        self._config_path = config_path
        self._restart, self._refetch_trust, self._check_trust = restart, refetch_trust, check_trust

    def open_once(self, operator: str, command_id: str) -> None:
        """A manual pass authorised by central: still subject to the temperature check."""
        if self._controller.handle_manual(operator, "central", command_id):
            return
        log.warning("open-once %s refused: the gate is busy with another person", command_id)
        # The command id is spent (replays are refused), so central must see what became of it.
        refusal = GateEvent(
            kind="decision",
            decision="deny",
            reasons=(Reason.GATE_BUSY,),
            method="manual",
            operator=operator,
            detail=f"open-once {command_id[:64]} arrived during another presentation",
        )
        try:
            self._outbox.emit(refusal)
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
            if self._status is not None:
                self._status.set_fault(Fault.CONFIG, "; ".join(exc.problems)[:500])
            return
        log.info("reload-config: configuration valid, restarting to apply it")
        self._restart(EXIT_RESTART)

    def clear_fault(self, fault: str, command_id: str) -> None:
        """clear-fault from central: lift the latched fault of that published name. A device
        that could not be opened at start is opened again by restarting the service."""
        latched = Fault.named(fault)
        if latched is None or latched not in self._controller.faults:
            log.warning("clear-fault %s: %s is not active", command_id[:64], fault[:64])
            return
        if latched in self._unopened:
            log.warning("clear-fault %s: restarting to open the device again", latched)
            self._restart(EXIT_RESTART)
            return
        log.warning("clear-fault %s: lifted by central command %s", latched, command_id[:64])
        self._controller.clear_fault(latched)

    def refresh_trust(self) -> None:
        """Re-read the persisted trust list and denylist, and ask the broker for the retained
        ones again; a refused file (bad signature, rollback, expired while a good one is loaded)
        is logged and shown on the status topic."""
        self._trust.load()
        if self._refetch_trust():
            log.info("refresh-trust: retained trust list and denylist requested again")
        for problem in self._trust.problems:
            log.error("trust: %s", problem)
        if self._status is not None:
            if self._trust.problems:
                self._status.set_fault(Fault.TRUST_FILES, "; ".join(self._trust.problems)[:500])
            else:
                self._status.clear_fault(Fault.TRUST_FILES)
        self._check_trust()
