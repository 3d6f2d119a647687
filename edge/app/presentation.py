"""The controller that runs each presentation, and the visitor screen and button beside it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from edge.app.config import Config
from edge.app.hardware import Hardware
from edge.app.stores import GateStores
from edge.clock import Clock
from edge.core.button import ButtonWatch
from edge.core.controller import GateController
from edge.core.records import DecisionRecord, Indicators
from edge.core.steps import GateDevices
from edge.ports import LineSource
from edge.service.journal import log_decision

if TYPE_CHECKING:
    from edge.screen.audio import AudioOut
    from edge.screen.service import VisitorScreen


def gate_controller(
    config: Config,
    hardware: Hardware,
    stores: GateStores,
    *,
    identity_source: LineSource | None,
    clock: Clock,
    on_decision: Callable[[DecisionRecord], None] | None,
) -> GateController:
    """The controller driving the gate's devices, storing its events in the outbox and its
    decisions in the journal and the local log; identity lines come from `identity_source`."""
    io = hardware.io
    controller = GateController(
        policy=config.policy,
        devices=GateDevices(
            relay=hardware.relay,
            thermometer=hardware.thermometer,
            identity_source=identity_source,
            passage_input=io.passage,
            indicators=Indicators(green=io.green_lamp, red=io.red_lamp, buzzer=io.buzzer),
        ),
        events=stores.outbox,
        clock=clock,
        on_decision=on_decision,
        ledger=stores.passback,
    )
    controller.add_listener(log_decision)
    controller.add_listener(stores.decisions.record)
    return controller


def visitor_screen(
    config: Config,
    controller: GateController,
    clock: Clock,
    audio_out: AudioOut | None,
) -> VisitorScreen | None:
    """The visitor page and voice following `controller`; None when neither is enabled."""
    if not (config.screen.enabled or config.voice.enabled):
        return None
    # Only a gate with a screen or a voice loads them (HTTP server, audio).
    from edge.screen.service import VisitorScreen  # noqa: PLC0415

    state_dir = Path(config.storage.state_dir)
    screen = VisitorScreen(config.screen, config.voice, clock, state_dir, audio_out)
    screen.attach(controller)
    return screen


def manual_button(
    config: Config,
    hardware: Hardware,
    controller: GateController,
    stopping: threading.Event,
    show_fault: Callable[[str, str], None],
) -> ButtonWatch | None:
    """The watch of the attendant's manual-pass button; None when no button is fitted."""
    if hardware.io.manual_button is None:
        return None
    return ButtonWatch(
        hardware.io.manual_button,
        controller,
        config.policy.button_operator,
        stopping,
        show_fault,
    )
