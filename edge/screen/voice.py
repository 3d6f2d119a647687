"""Voice prompts for the screen's moments, played on their own thread so that the controller
never waits; volume and quiet hours from [voice]; an unplayable prompt is an audio fault."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from edge.clock import Clock
from edge.errors import GateEdgeError
from edge.faults import WORKER_FAULT_PREFIX, Fault
from edge.screen.audio import (
    AudioOut,
    Prompt,
    espeak_available,
    read_recording,
    render_espeak,
    scaled,
)
from edge.screen.catalogue import Catalogue
from edge.screen.settings import VoiceSettings, quiet_window
from edge.screen.view import Moment, phase_of

log = logging.getLogger(__name__)

VOICE_THREAD = "voice"
QUEUE_DEPTH = 4
SETTLE_S = 0.05
"""A prompt starts this long after its moment: the controller's next steps (the relay pulse
follows a pass within milliseconds) never wait for the player's process to start."""
_SPOKEN_PHASES = ("identity", "measuring", "out_of_service")


def prompt_key(previous_phase: str, moment: Moment) -> str | None:
    """The catalogue key to speak when the screen enters `moment` (None: stay silent)."""
    phase = phase_of(moment)
    if phase == previous_phase:
        return None
    record = moment.record
    if phase == "decision" and record is not None:
        if record.verdict == "pass":
            return "states.pass"
        return _reason_key(record.reasons[0]) if record.reasons else "states.deny"
    if phase in _SPOKEN_PHASES:
        return f"states.{phase}"
    return None


def _reason_key(reason: str) -> str:
    if reason.startswith(WORKER_FAULT_PREFIX):
        return f"faults.{Fault.WORKER}"
    return f"reasons.{reason}"


def volume_now(settings: VoiceSettings, epoch: float) -> int:
    """The volume in percent at local time `epoch` (the quiet volume within quiet hours)."""
    window = quiet_window(settings.quiet_hours)
    if window is None:
        return settings.volume_percent
    local = time.localtime(epoch)
    minute = local.tm_hour * 60 + local.tm_min
    start, end = window
    quiet = start <= minute < end if start <= end else (minute >= start or minute < end)
    return settings.quiet_volume_percent if quiet else settings.volume_percent


class VoicePlayer:
    """Queues prompt keys from the screen's moments and speaks them in the configured languages."""

    def __init__(  # noqa: PLR0917  the screen names the two reports (on_fault, on_recover)
        self,
        settings: VoiceSettings,
        catalogues: Mapping[str, Catalogue],
        audio: AudioOut,
        clock: Clock,
        render_dir: Path,
        on_fault: Callable[[str], None],
        on_recover: Callable[[], None],
    ) -> None:
        self._settings = settings
        self._catalogues = [catalogues[tag] for tag in settings.languages if tag in catalogues]
        self._audio = audio
        self._clock = clock
        self._render_dir = render_dir
        self._on_fault = on_fault
        self._on_recover = on_recover
        self._queue: queue.Queue[str | None] = queue.Queue(QUEUE_DEPTH)
        self._phase = "idle"
        self._faulted = False
        self._espeak = audio.wants_sound and espeak_available()
        self._ready: dict[tuple[str, str, int], bytes | None] = {}  # at a volume, ready to play
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def on_moment(self, moment: Moment) -> None:
        """Called by the feed for every moment: queue its prompt, never wait."""
        key = prompt_key(self._phase, moment)
        self._phase = phase_of(moment)
        if key is None:
            return
        while True:
            try:
                self._queue.put_nowait(key)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()  # the newest moment matters: drop the oldest

    def start(self) -> None:
        """Check the device, then speak from a background thread."""
        problem = self._audio.problem()
        if problem is not None:
            self._fault(problem)
        self.revive()

    def revive(self) -> None:
        """Start the voice thread (again, should it have died); not after stop()."""
        if self._stopping.is_set() or self.alive():
            return
        self._thread = threading.Thread(target=self._run, name=VOICE_THREAD, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """The voice thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Finish the prompt being spoken and stop."""
        self._stopping.set()  # also ends rendering ahead
        if self._thread is None:
            return
        while True:
            try:
                self._queue.put_nowait(None)
                break
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
        self._thread.join(5.0)

    def prompts(self, key: str) -> list[Prompt]:
        """The prompt `key` in every spoken language (a language without sound is text only)."""
        found = []
        for catalogue in self._catalogues:
            entry = catalogue.entries.get(key)
            if entry is None or not entry.voice:
                continue
            found.append(Prompt(catalogue.tag, key, entry.voice, self._sound(catalogue, key)))
        return found

    def render_ahead(self) -> int:
        """Render every prompt espeak-ng can speak that has no recording; the count rendered."""
        count = 0
        for catalogue in self._catalogues:
            for key in catalogue.entries:
                if self._stopping.is_set():
                    return count
                if self._recording(catalogue.tag, key) is None and self._speakable(catalogue):
                    try:
                        self._sound(catalogue, key)
                        count += 1
                    except GateEdgeError as exc:
                        log.warning("voice: %s %s not rendered: %s", catalogue.tag, key, exc)
        return count

    def _run(self) -> None:
        if self._espeak:
            self.render_ahead()
        while True:
            key = self._queue.get()
            if key is None:
                return
            self._clock.sleep(SETTLE_S)
            try:
                self._speak(key)
            except Exception as exc:
                log.exception("voice prompt %s failed", key)
                self._fault(f"{type(exc).__name__}: {exc}")

    def _speak(self, key: str) -> None:
        volume = volume_now(self._settings, self._clock.now())
        if volume <= 0:
            return
        for prompt in self.prompts(key):
            ready = (prompt.language, key, volume)
            if ready not in self._ready:  # scaled once per volume, not per visitor
                self._ready[ready] = None if prompt.wav is None else scaled(prompt.wav, volume)
            self._audio.play(Prompt(prompt.language, key, prompt.text, self._ready[ready]))
        if self._faulted:
            self._faulted = False
            self._on_recover()

    def _fault(self, detail: str) -> None:
        self._faulted = True
        self._on_fault(detail)

    def _recording(self, tag: str, key: str) -> Path | None:
        if not self._settings.recordings_dir:
            return None
        path = Path(self._settings.recordings_dir) / tag / f"{key}.wav"
        return path if path.is_file() else None

    def _speakable(self, catalogue: Catalogue) -> bool:
        return self._espeak and bool(catalogue.espeak_voice)

    def _sound(self, catalogue: Catalogue, key: str) -> bytes | None:
        if not self._audio.wants_sound:
            return None
        recording = self._recording(catalogue.tag, key)
        if recording is not None:
            return read_recording(recording)
        entry = catalogue.entries.get(key)
        if entry is None or not entry.voice or not self._speakable(catalogue):
            return None
        return render_espeak(entry.voice, catalogue.espeak_voice, self._render_dir / catalogue.tag)
