"""Live cameras: USB through OpenCV's V4L2 backend and CSI through picamera2; plus the factory."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.drivers.camera_replay import ReplayFrameSource
from edge.drivers.settings import CameraSettings
from edge.errors import CameraError
from edge.ports import Frame, FrameSource
from edge.scan.opencv import cv2

log = logging.getLogger(__name__)

CaptureOpener = Callable[[str, int, int, int], Any]


def open_v4l2(device: str, width: int, height: int, fps: int) -> Any:
    """A cv2.VideoCapture on the V4L2 backend: MJPG, requested size and rate, one-frame buffer."""
    target: str | int = int(device) if device.isdigit() else device
    capture = cv2.VideoCapture(target, cv2.CAP_V4L2)
    if not capture.isOpened():
        capture.release()
        raise CameraError(f"cannot open camera {device}")
    capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
    capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
    capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    capture.set(cv2.CAP_PROP_FPS, fps)
    capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    return capture


class _NewestFrame:
    """The single-slot hand-over between a grabber thread and the reader."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: tuple[float, Any] | None = None
        self._seq = 0
        self._taken = 0
        self.error: str | None = None
        self.dropped = 0

    def put(self, frame_time: float, frame: Any) -> None:
        with self._cond:
            if self._seq > self._taken:
                self.dropped += 1  # the previous frame was never read: it is stale now
            self._frame = (frame_time, frame)
            self._seq += 1
            self.error = None  # frames flow (again): a past failure no longer applies
            self._cond.notify_all()

    def fail(self, reason: str) -> None:
        with self._cond:
            self.error = reason
            self._cond.notify_all()

    def take(self, timeout_s: float) -> tuple[float, Any] | None:
        with self._cond:
            self._cond.wait_for(
                lambda: self._seq > self._taken or self.error is not None, max(0.0, timeout_s)
            )
            if self._seq > self._taken and self._frame is not None:
                self._taken = self._seq
                return self._frame
            if self.error is not None:
                raise CameraError(self.error)
            return None


@dataclass(frozen=True)
class Reconnect:
    """How a failed camera is opened again: the delay grows by `delay_s` per attempt up to
    `max_delay_s`; after `attempts` the failure is reported, and the attempts go on."""

    attempts: int = 5
    delay_s: float = 1.0
    max_delay_s: float = 5.0


class UsbCamera:
    """A USB webcam; a grabber thread keeps only the newest frame and never gives up.

    After a failure it reconnects as `reconnect` says; when its attempts are spent, read()
    raises CameraError with the reason, but the grabber keeps trying (every
    `reconnect.max_delay_s` at most) and read() returns frames again once the device is back.
    With `retry_if_absent` a camera that cannot be opened at construction is not an error: read()
    raises CameraError("camera DEV: not available: ...") until it appears."""

    def __init__(
        self,
        device: str = "/dev/video0",
        width: int = 1280,
        height: int = 720,
        fps: int = 30,
        *,
        reconnect: Reconnect = Reconnect(),
        retry_if_absent: bool = False,
        opener: CaptureOpener = open_v4l2,
    ) -> None:
        self._args = (device, width, height, fps)
        self._attempts = reconnect.attempts
        self._delay = reconnect.delay_s
        self._max_delay = reconnect.max_delay_s
        self._opener = opener
        self._slot = _NewestFrame()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._capture: Any = None
        self._opened = False  # the device has been open at least once
        try:
            self._capture = opener(*self._args)
            self._opened = True
        except Exception as exc:
            if not retry_if_absent:
                raise  # fail fast if it is not there at all
            self._slot.fail(self._absent(exc))
            log.warning("%s; retrying in the background", self._absent(exc))
        self._thread = threading.Thread(target=self._grab, name="usb-camera", daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> int:
        """Frames overwritten before anyone read them."""
        return self._slot.dropped

    def _absent(self, exc: BaseException) -> str:
        return f"camera {self._args[0]}: not available: {exc}"

    def _grab(self) -> None:
        failures = 0  # reconnect attempts since the last frame
        try:
            while not self._stop.is_set():
                capture = self._capture
                if capture is None:
                    try:
                        capture = self._opener(*self._args)
                    except Exception as exc:  # noqa: BLE001 - absent: try again later
                        failures += 1
                        self._failed(failures, self._absent(exc))
                        continue
                    with self._lock:
                        self._capture = capture
                    self._opened = True
                    log.info("camera %s: open", self._args[0])
                try:
                    ok, image = capture.read()
                    reason = "no frame"
                except Exception as exc:  # noqa: BLE001 - any capture fault triggers a reconnect
                    ok, image = False, None
                    reason = f"read failed: {exc!r}"
                if ok and image is not None:
                    if failures:
                        log.info("camera %s: frames again", self._args[0])
                    failures = 0
                    self._slot.put(time.monotonic(), image)
                    continue
                failures += 1
                self._release()
                self._failed(failures, f"camera {self._args[0]}: {reason}")
        finally:
            self._release()

    def _failed(self, failures: int, reason: str) -> None:
        """Report a failed read or open if the grace attempts are spent; wait before retrying."""
        if not self._opened:
            self._slot.fail(reason)  # never seen since start: not available
        elif failures > self._attempts:
            self._slot.fail(
                f"camera {self._args[0]}: no frames after {self._attempts} reconnects "
                f"({reason.removeprefix(f'camera {self._args[0]}: ')}); still retrying"
            )
        else:
            log.warning("%s, reconnecting (%d)", reason, failures)
        self._stop.wait(min(self._delay * failures, self._max_delay))

    def _release(self) -> None:
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is None:
            return
        try:
            capture.release()
        except Exception as exc:  # noqa: BLE001  OpenCV may raise anything; closing goes on
            log.debug("camera release failed: %r", exc)

    def read(self, timeout_s: float) -> tuple[float, Frame] | None:
        """The newest frame since the last read, as captured (BGR).

        Not converted here: the scan loop decides from a sparse thumbnail whether the frame is
        worth decoding, and converts only those, which saves a full-frame pass while idle."""
        taken = self._slot.take(timeout_s)
        if taken is None:
            return None
        frame_time, image = taken
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim not in (2, 3):
            raise CameraError(f"camera delivered an unusable frame {array.dtype}{array.shape}")
        return frame_time, array

    def close(self) -> None:
        """Stop the grabber and release the device."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._release()


class CsiCamera:
    """A Raspberry Pi CSI camera via picamera2; the YUV420 lores luma plane is the gray frame."""

    def __init__(
        self, width: int = 1280, height: int = 720, fps: int = 30, *, module: Any = None
    ) -> None:
        try:
            picamera2 = module or importlib.import_module("picamera2")
        except ImportError as exc:
            raise CameraError(
                "CSI camera needs picamera2 (apt install python3-picamera2; "
                "the venv needs --system-site-packages)"
            ) from exc
        self._width = width
        self._height = height
        self._slot = _NewestFrame()
        self._stop = threading.Event()
        try:
            self._camera = picamera2.Picamera2()
            config = self._camera.create_video_configuration(
                main={"size": (width, height)},
                lores={"size": (width, height), "format": "YUV420"},
                controls={"FrameRate": fps},
                buffer_count=2,
            )
            self._camera.configure(config)
            self._camera.start()
        except Exception as exc:  # libcamera raises many kinds
            raise CameraError(f"CSI camera failed to start: {exc}") from exc
        self._thread = threading.Thread(target=self._grab, name="csi-camera", daemon=True)
        self._thread.start()

    def _grab(self) -> None:
        while not self._stop.is_set():
            try:
                yuv = self._camera.capture_array("lores")
            except Exception as exc:  # noqa: BLE001  picamera2 raises anything; the reader sees it
                self._slot.fail(f"CSI camera stopped: {exc}")
                return
            # rows may be padded to a stride wider than the picture: crop both ways
            self._slot.put(time.monotonic(), np.asarray(yuv)[: self._height, : self._width])

    def read(self, timeout_s: float) -> tuple[float, Frame] | None:
        """The newest luma plane since the last read."""
        taken = self._slot.take(timeout_s)
        if taken is None:
            return None
        return taken[0], np.ascontiguousarray(taken[1], dtype=np.uint8)

    def close(self) -> None:
        """Stop capturing."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        try:
            self._camera.stop()
            self._camera.close()
        except Exception as exc:  # noqa: BLE001  picamera2 may raise anything; closing goes on
            log.debug("CSI camera close failed: %r", exc)


def open_frame_source(settings: CameraSettings) -> FrameSource:
    """The frame source the configuration asks for."""
    if settings.source == "usb":
        # an absent camera is not fatal: read() reports it until it is plugged in
        return UsbCamera(
            settings.device, settings.width, settings.height, settings.fps, retry_if_absent=True
        )
    if settings.source == "csi":
        return CsiCamera(settings.width, settings.height, settings.fps)
    if settings.source == "replay":
        return ReplayFrameSource.from_path(
            settings.replay_path, settings.replay_fps, loop=settings.replay_loop
        )
    raise CameraError(f"no frame source configured (camera.source = {settings.source!r})")
