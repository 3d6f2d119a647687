"""The visitor screen and voice as one part of the gate: subscribed to the controller's states,
decisions and faults, started after it and stopped before it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from edge.clock import Clock
from edge.core.controller import DecisionListener, StateListener
from edge.core.fault_board import FaultObserver
from edge.faults import Fault
from edge.screen.audio import AudioOut, CommandAudioOut
from edge.screen.catalogue import load_catalogues
from edge.screen.feed import ScreenFeed
from edge.screen.server import ScreenServer, ScreenServerError
from edge.screen.settings import ScreenSettings, VoiceSettings, parse_listen
from edge.screen.voice import VoicePlayer

log = logging.getLogger(__name__)


class ControllerEvents(Protocol):
    """What the screen needs of the controller: its events, and a place for its fault."""

    def watch_state(self, listener: StateListener) -> None:
        """Call `listener` with every state the controller enters."""

    def add_listener(self, listener: DecisionListener) -> None:
        """Call `listener` with every decision record."""

    def watch_faults(self, observer: FaultObserver) -> None:
        """Push the faults to show to `observer` now and after every change."""

    def report_fault(self, fault: Fault, detail: str) -> None:
        """Latch a fault: presentations it blocks are denied with its name until it is cleared."""

    def clear_fault(self, fault: Fault) -> None:
        """Clear a latched fault."""


class VisitorScreen:
    """The page's feed and server, and the voice player, for one controller: one worker of the
    service (`visitor-screen`), restarted by its supervisor when a thread of it died."""

    name = "visitor-screen"

    def __init__(
        self,
        screen: ScreenSettings,
        voice: VoiceSettings,
        clock: Clock,
        state_dir: Path,
        audio: AudioOut | None = None,
    ) -> None:
        tags = list(dict.fromkeys([*screen.languages, *(voice.languages if voice.enabled else [])]))
        catalogues = load_catalogues(tags, screen.texts_dir)
        shown = {tag: catalogues[tag] for tag in screen.languages}
        self.feed = ScreenFeed(shown, clock, screen.decision_hold_s)
        self.server: ScreenServer | None = None
        if screen.enabled:
            host, port = parse_listen(screen.listen)
            self.server = ScreenServer(self.feed, host, port)
        self.voice: VoicePlayer | None = None
        self._voice_settings = voice
        self._audio = audio or CommandAudioOut(voice.player)
        self._clock = clock
        self._catalogues = catalogues
        self._render_dir = state_dir / "voice"
        self._controller: ControllerEvents | None = None

    def attach(self, controller: ControllerEvents) -> None:
        """Subscribe to the controller (before it starts)."""
        self._controller = controller
        controller.watch_state(self.feed.on_state)
        controller.add_listener(self.feed.on_decision)
        controller.watch_faults(self.feed.on_faults)
        if self._voice_settings.enabled:
            self.voice = VoicePlayer(
                self._voice_settings,
                self._catalogues,
                self._audio,
                self._clock,
                self._render_dir,
                on_fault=lambda detail: controller.report_fault(Fault.AUDIO_FAULT, detail),
                on_recover=lambda: controller.clear_fault(Fault.AUDIO_FAULT),
            )
            self.feed.watch(self.voice.on_moment)

    @property
    def url(self) -> str | None:
        """The page's address (None when the screen is off)."""
        return self.server.url if self.server is not None else None

    def start(self) -> None:
        """Serve the page and speak. A page that cannot be served is a screen fault: the gate
        runs on without it."""
        if self.server is not None:
            try:
                self.server.start()
                log.info("visitor screen on %s", self.server.url)
            except ScreenServerError as exc:
                log.error("%s", exc)
                if self._controller is not None:
                    self._controller.report_fault(Fault.SCREEN_FAULT, str(exc))
                self.server = None
        if self.voice is not None:
            self.voice.start()

    def alive(self) -> bool:
        """Every thread of the screen runs."""
        serving = self.server is None or self.server.alive()
        speaking = self.voice is None or self.voice.alive()
        return serving and speaking

    def heartbeat(self) -> float | None:
        """No heartbeat of its own: the screen counts as fresh while its threads run."""
        return None

    def revive(self) -> None:
        """Start again a thread of the screen that died."""
        if self.server is not None:
            self.server.revive()
        if self.voice is not None:
            self.voice.revive()

    def stop(self) -> None:
        """Stop speaking and serving."""
        if self.voice is not None:
            self.voice.stop()
        if self.server is not None:
            self.server.stop()
        self.feed.close()
