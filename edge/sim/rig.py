"""Simulated gate hardware: a camera showing scripted frames, a turnstile, a thermometer scene."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import numpy as np

from edge.app.hardware import Hardware
from edge.clock import Clock
from edge.drivers.fake_gpio import FakeChip, FakeInput, FakeOutput
from edge.drivers.fake_smbus import FakeMlx90614Bus
from edge.drivers.io import GateIo
from edge.drivers.relay_gpiod import GpiodRelay
from edge.drivers.settings import ThermoSettings
from edge.drivers.thermometer import open_thermometer
from edge.platform.desk import QueuedLines
from edge.ports import GateRelay, GrayFrame
from edge.sim.screens import ScreenStyle, render_scene
from edge.thermo.scene import PersonScene

RELAY_LINE = 17


class ScriptedCamera:
    """A FrameSource that shows whatever the script puts in front of it, at a fixed frame rate.

    Like a real camera it only ever hands out the newest frame, stamped with its capture time.
    """

    def __init__(self, clock: Clock, fps: float = 30.0) -> None:
        self._clock, self._period = clock, 1.0 / fps
        self._cond = threading.Condition()
        self._frames: Sequence[GrayFrame] = [_empty_scene()]
        self._index = 0
        self._last_time = 0.0
        self._closed = False
        self.shown_at: float | None = None  # monotonic time the current script step appeared
        self.first_capture_at: float | None = None  # capture time of its first frame

    def show(self, frames: Sequence[GrayFrame]) -> float:
        """Put these frames (cycled) in front of the camera; returns the monotonic time."""
        with self._cond:
            self._frames, self._index = list(frames), 0
            self.shown_at = self._clock.monotonic()
            self.first_capture_at = None
            self._cond.notify_all()
            return self.shown_at

    def show_nothing(self) -> None:
        """An empty scene."""
        self.show([_empty_scene()])

    def read(self, timeout_s: float) -> tuple[float, GrayFrame] | None:
        """Give the next frame of the scene at the camera's frame rate; None on timeout or close."""
        deadline = self._clock.monotonic() + timeout_s
        while True:
            now = self._clock.monotonic()
            due = self._last_time + self._period
            if now >= due:
                break
            if now + (due - now) > deadline:
                self._clock.sleep(max(0.0, deadline - now))
                return None
            self._clock.sleep(due - now)
        with self._cond:
            if self._closed:
                return None
            frame = self._frames[self._index % len(self._frames)]
            self._index += 1
            self._last_time = self._clock.monotonic()
            if self.first_capture_at is None:
                self.first_capture_at = self._last_time
        return self._last_time, frame

    def close(self) -> None:
        """Stop the camera: every later read returns None."""
        with self._cond:
            self._closed = True


class SimDocumentReader(QueuedLines):
    """A LineSource standing for the ID-card reader: each swipe delivers one document number."""

    def swipe(self, number: str) -> None:
        """A card is laid on the reader."""
        self.put(number)


class SimTurnstile:
    """The real GPIO relay driver on a fake line, wired to a turnstile that lets one person
    through (its PASS output) shortly after each open pulse, unless told the person walks away."""

    def __init__(self, relay: GateRelay, chip: FakeChip, passage: FakeInput, clock: Clock):
        self.relay, self.chip, self._passage, self._clock = relay, chip, passage, clock
        self.walk_through = True
        self.walk_delay_s = 0.4  # from the open pulse to the PASS output
        self.pulses: list[float] = []  # monotonic times the relay was energised

    def pulse(self, duration_ms: int | None = None) -> None:
        """Pulse the relay and, unless the person walks away, report a passage shortly after."""
        self.relay.pulse(duration_ms)
        self.pulses.append(self._clock.monotonic())
        if self.walk_through:
            timer = threading.Timer(self.walk_delay_s, self._passage.press, kwargs={"hold_s": 0.05})
            timer.daemon = True
            timer.start()

    def release(self) -> None:
        """Drop the relay now."""
        self.relay.release()

    def close(self) -> None:
        """Close the relay driver."""
        self.relay.close()


def render_code_frames(text: str, seed: int, count: int = 6) -> list[GrayFrame]:
    """A phone held up showing `text`, with a little hand movement between frames."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        style = ScreenStyle(
            code_width=float(rng.uniform(300, 360)),
            angle_deg=float(rng.uniform(-12, 12)),
            tilt=float(rng.uniform(0.0, 0.12)),
            centre=(640.0 + float(rng.normal(0, 6)), 360.0 + float(rng.normal(0, 6))),
            blur_sigma=float(rng.uniform(0.0, 0.8)),
            glare=float(rng.uniform(0.0, 0.3)),
            noise_sigma=2.0,
        )
        bgr = render_scene(text, style, seed * 100 + i)
        frames.append(np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8))
    return frames


_EMPTY: list[GrayFrame] = []


def _empty_scene() -> GrayFrame:
    if not _EMPTY:
        bgr = render_scene(None, ScreenStyle(noise_sigma=0.0), 7)
        _EMPTY.append(np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8))
    return _EMPTY[0]


class SimGate:
    """Every simulated device of one gate, and the knobs a script turns."""

    def __init__(self, clock: Clock, *, camera_fps: float = 30.0) -> None:
        self.clock = clock
        self.camera = ScriptedCamera(clock, camera_fps)
        self.scene = PersonScene(clock, ambient_c=23.0)
        self.sensor_bus = FakeMlx90614Bus(self.scene, clock)
        thermometer = open_thermometer(
            ThermoSettings(backend="fake", sample_interval_ms=20),
            clock=clock,
            bus=self.sensor_bus,
        )
        self.chip = FakeChip()
        self.passage = FakeInput("passage")
        self.manual_button = FakeInput("manual_button")
        self.lamps = {name: FakeOutput(name) for name in ("green_lamp", "red_lamp", "buzzer")}
        relay = GpiodRelay.open(
            "/dev/gpiochip0",
            RELAY_LINE,
            active_low=False,
            pulse_ms=300,
            cap_ms=2000,
            backend=self.chip,
        )
        self.turnstile = SimTurnstile(relay, self.chip, self.passage, clock)
        relay_iface: GateRelay = self.turnstile
        self.card_reader = SimDocumentReader()
        self.hardware = Hardware(
            relay=relay_iface,
            thermometer=thermometer,
            io=GateIo(
                passage=self.passage,
                manual_button=self.manual_button,
                green_lamp=self.lamps["green_lamp"],
                red_lamp=self.lamps["red_lamp"],
                buzzer=self.lamps["buzzer"],
            ),
            frames=self.camera,
            document_reader=self.card_reader,
        )

    def person_arrives(self, skin_c: float) -> None:
        """Someone steps up to the thermometer."""
        self.scene.arrive(skin_c)

    def person_leaves(self) -> None:
        """They are gone."""
        self.scene.leave()
        self.camera.show_nothing()
