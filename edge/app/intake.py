"""What the gate reads (codes from the scanners, ID cards at the desk) handed to the controller."""

from __future__ import annotations

import logging

from edge.app.config import Config
from edge.app.hardware import Hardware
from edge.clock import Clock
from edge.core.controller import GateController
from edge.core.records import GateState
from edge.faults import Fault
from edge.platform.desk import DocumentDesk, QueuedLines
from edge.platform.verifier import CredentialChecker
from edge.scan.loop import ScanLoop, Verify
from edge.scan.result import ScanComponent, ScanFault, ScanResult

log = logging.getLogger(__name__)


class Intake:
    """Routes to the controller the verified scans, the scan sources' faults and recoveries, and
    the ID cards presented at an idle gate (whose answer comes from the platform)."""

    def __init__(self, controller: GateController, credentials: CredentialChecker) -> None:
        self._controller, self._credentials = controller, credentials

    def scan(self, result: ScanResult) -> None:
        """A verified code: the controller starts a presentation with it (or ignores it)."""
        self._controller.handle_scan(
            result.source, result.verification, result.decode_ms, result.frame_time
        )

    def scan_fault(self, fault: ScanFault) -> None:
        """A scan source failed: its fault latches."""
        self._controller.report_fault(fault.component.fault, str(fault))

    def scan_recovered(self, component: ScanComponent) -> None:
        """A failed scan source delivers again: its fault clears."""
        self._controller.clear_fault(component.fault)

    def busy(self) -> bool:
        """A presentation is in progress."""
        return self._controller.status().state != GateState.IDLE

    def id_card(self, line: str, read_at: float) -> None:
        """A resident ID card at an idle gate: the platform's answer is the credential."""
        verification = self._credentials.verify_id(line)
        if not self._controller.handle_scan("id_card", verification, 0.0, read_at):
            log.info("ID card ignored: the gate is busy")

    def desk_fault(self, detail: str) -> None:
        """The document desk's loop failed."""
        self._controller.announce_fault(Fault.DOCUMENT_READER_FAULT, detail)


def desk_lines(hardware: Hardware, credentials: CredentialChecker) -> QueuedLines | None:
    """The queue through which a document desk hands the controller the cards read during a
    presentation; None when the gate has no desk (no card reader, or no platform to ask)."""
    if credentials.client is None or hardware.document_reader is None:
        return None
    return QueuedLines()


def document_desk(
    hardware: Hardware, lines: QueuedLines | None, clock: Clock, intake: Intake
) -> DocumentDesk | None:
    """The desk reading the card reader into `lines` (from `desk_lines`), or None without one."""
    if lines is None or hardware.document_reader is None:
        return None
    return DocumentDesk(
        hardware.document_reader,
        clock,
        busy=intake.busy,
        on_card=intake.id_card,
        on_fault=intake.desk_fault,
        lines=lines,
    )


def scan_loop(
    verify: Verify, config: Config, clock: Clock, hardware: Hardware, intake: Intake
) -> ScanLoop:
    """The loop reading the camera's frames and the serial scanner's lines into `intake`."""
    return ScanLoop(
        verify,
        config.scan,
        clock,
        frames=hardware.frames,
        lines=hardware.scanner,
        on_result=intake.scan,
        on_fault=intake.scan_fault,
        on_recover=intake.scan_recovered,
    )
