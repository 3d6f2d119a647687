"""USB/CSI camera drivers against fake capture devices, replay sources and the factory."""

from __future__ import annotations

import importlib
import io
import threading
import time
import types
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from edge.drivers.camera import CsiCamera, Reconnect, UsbCamera, open_frame_source
from edge.drivers.camera_replay import ReplayFrameSource, load_images, load_video, read_pgm
from edge.drivers.replay_decode import _read_stream
from edge.drivers.settings import CameraSettings
from edge.errors import CameraError


class FakeCapture:
    """Stands in for cv2.VideoCapture: yields BGR frames, then fails if told to."""

    def __init__(self, frames: int, fail_after: int | None = None) -> None:
        self.remaining = frames
        self.fail_after = fail_after
        self.reads = 0
        self.released = False
        self.gate = threading.Semaphore(0)

    def read(self) -> tuple[bool, Any]:
        self.reads += 1
        if self.fail_after is not None and self.reads > self.fail_after:
            return False, None
        self.gate.acquire(timeout=2.0)  # the test releases frames one at a time
        value = self.reads % 256
        return True, np.full((6, 8, 3), value, np.uint8)

    def release(self) -> None:
        self.released = True


def test_usb_camera_hands_over_the_newest_frame_as_captured() -> None:
    capture = FakeCapture(frames=100)
    camera = UsbCamera("/dev/video9", opener=lambda *a: capture)
    try:
        for _ in range(3):
            capture.gate.release()
        deadline = threading.Event()
        while capture.reads < 4 and not deadline.wait(0.01):
            pass
        got = camera.read(1.0)
        assert got is not None
        _, frame = got
        assert frame.shape == (6, 8, 3) and frame.dtype == np.uint8  # converted only if decoded
        assert frame[0, 0, 0] == 3  # frames 1 and 2 were superseded, never queued
        assert camera.dropped == 2
        assert camera.read(0.05) is None
    finally:
        camera.close()
    assert capture.released


def test_usb_camera_reconnects_then_reports_camera_error() -> None:
    opened: list[FakeCapture] = []

    def opener(*args: Any) -> FakeCapture:
        capture = FakeCapture(frames=0, fail_after=0)
        opened.append(capture)
        return capture

    camera = UsbCamera("/dev/video9", reconnect=Reconnect(attempts=2, delay_s=0.01), opener=opener)
    try:
        with pytest.raises(CameraError, match="no frames after 2 reconnects"):
            for _ in range(100):
                camera.read(0.1)
        assert len(opened) >= 3  # and it keeps trying in the background
    finally:
        camera.close()


class FakeDevice:
    """A USB camera that can be unplugged and plugged in again; frames flow while present."""

    def __init__(self, *, present: bool = True) -> None:
        self.present = present
        self.opens = 0

    def open(self, device: str, *args: Any) -> Any:
        if not self.present:
            raise CameraError(f"cannot open camera {device}")
        self.opens += 1
        return types.SimpleNamespace(read=self._read, release=lambda: None)

    def _read(self) -> tuple[bool, Any]:
        time.sleep(0.002)
        if not self.present:
            return False, None
        return True, np.full((6, 8, 3), 9, np.uint8)


def _until_frame(camera: UsbCamera, bound_s: float = 20.0) -> np.ndarray:
    """Read until a frame comes (CameraError meanwhile is fine); fail after a generous bound."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            got = camera.read(0.05)
        except CameraError:
            time.sleep(0.01)
            continue
        if got is not None:
            return got[1]
    raise AssertionError("no frame within the bound")


def _until_error(camera: UsbCamera, bound_s: float = 20.0) -> CameraError:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            camera.read(0.05)
        except CameraError as exc:
            return exc
    raise AssertionError("no CameraError within the bound")


def test_usb_camera_recovers_when_replugged_after_the_reconnects_are_spent() -> None:
    device = FakeDevice()
    camera = UsbCamera(
        "/dev/video9",
        reconnect=Reconnect(attempts=2, delay_s=0.01, max_delay_s=0.05),
        opener=device.open,
    )
    try:
        assert _until_frame(camera).shape == (6, 8, 3)
        device.present = False  # unplugged for longer than the reconnect attempts
        error = _until_error(camera)
        assert "no frames after 2 reconnects" in str(error)
        assert "not available" in str(error) or "no frame" in str(error)
        with pytest.raises(CameraError):
            camera.read(0.05)  # the failure stays reported while the device is away
        device.present = True  # plugged in again
        assert _until_frame(camera).shape == (6, 8, 3)
        assert device.opens >= 2
        for _ in range(3):  # no stale error once frames flow
            assert camera.read(5.0) is not None
    finally:
        camera.close()


def test_usb_camera_absent_at_start_reports_then_delivers_when_plugged_in() -> None:
    device = FakeDevice(present=False)
    camera = UsbCamera(
        "/dev/video9",
        reconnect=Reconnect(delay_s=0.01, max_delay_s=0.05),
        retry_if_absent=True,
        opener=device.open,
    )
    try:
        for _ in range(3):
            with pytest.raises(CameraError, match=r"camera /dev/video9: not available: cannot"):
                camera.read(0.05)
        device.present = True
        assert _until_frame(camera).shape == (6, 8, 3)
        assert camera.read(5.0) is not None
    finally:
        camera.close()


def test_factory_returns_a_usb_camera_even_when_the_device_is_absent() -> None:
    source = open_frame_source(CameraSettings(source="usb", device="/dev/no-such-video-device"))
    try:
        assert isinstance(source, UsbCamera)
        with pytest.raises(CameraError, match="/dev/no-such-video-device: not available"):
            source.read(0.5)
    finally:
        source.close()


def test_usb_camera_open_failure_is_a_camera_error() -> None:
    def opener(*args: Any) -> Any:
        raise CameraError("cannot open camera /dev/video9")

    with pytest.raises(CameraError):
        UsbCamera("/dev/video9", opener=opener)


def test_csi_camera_uses_the_lores_luma_plane() -> None:
    class FakePicamera2:
        def __init__(self) -> None:
            self.config: dict[str, Any] = {}

        def create_video_configuration(self, **kwargs: Any) -> dict[str, Any]:
            return kwargs

        def configure(self, config: dict[str, Any]) -> None:
            self.config = config

        def start(self) -> None:
            pass

        def capture_array(self, name: str) -> Any:
            assert name == "lores"
            yuv = np.full((12 * 3 // 2, 32), 255, np.uint8)  # rows padded to a 32-byte stride
            yuv[:12, :16] = 77  # luma rows first, chroma after
            yuv[12:, :16] = 200
            return yuv

        def stop(self) -> None:
            pass

        def close(self) -> None:
            pass

    module = types.SimpleNamespace(Picamera2=FakePicamera2)
    camera = CsiCamera(16, 12, 30, module=module)
    try:
        got = camera.read(1.0)
        assert got is not None
        assert got[1].shape == (12, 16) and int(got[1].max()) == 77
    finally:
        camera.close()


def test_csi_camera_without_picamera2_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(CameraError, match="picamera2"):
        CsiCamera()


def test_replay_folder_and_video_through_the_factory(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), np.full((10, 12, 3), 50 * i, np.uint8))
    source = open_frame_source(
        CameraSettings(source="replay", replay_path=str(tmp_path), replay_fps=1000.0)
    )
    got = source.read(1.0)
    assert got is not None and got[1].shape == (10, 12)
    source.close()
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (32, 24))
    for i in range(4):
        writer.write(np.full((24, 32, 3), 60 * i, np.uint8))
    writer.release()
    replay = ReplayFrameSource.from_path(video, 1000.0, loop=False)
    got = replay.read(1.0)
    assert got is not None and got[1].shape == (24, 32)
    with pytest.raises(CameraError):
        ReplayFrameSource.from_path(tmp_path / "missing", 10.0)
    with pytest.raises(CameraError):
        open_frame_source(CameraSettings(source="none"))


def test_pgm_frames_read_without_opencv_equal_what_opencv_reads(tmp_path: Path) -> None:
    frame = np.random.default_rng(5).integers(0, 256, (7, 11), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.pgm"), frame)
    data = (tmp_path / "a.pgm").read_bytes()
    read = read_pgm(data)
    assert read is not None and np.array_equal(read, frame)
    commented = read_pgm(b"P5\n# scene 1\n2 1\n# 8 bit\n255\n\x01\x02")
    assert commented is not None and commented.tolist() == [[1, 2]]
    assert np.array_equal(
        load_images(tmp_path)[0], np.asarray(cv2.imread(str(tmp_path / "a.pgm"), 0))
    )


def test_pgm_frames_numpy_cannot_read_go_to_opencv_or_are_refused(tmp_path: Path) -> None:
    assert read_pgm(b"P5 2 1 65535\n\x00\x01\x00\x02") is None  # 16-bit: OpenCV reads it
    assert read_pgm(b"P5 2 2 255\n\x01") is None  # truncated
    assert read_pgm(b"P2 1 1 255\n7\n") is None  # plain (ASCII) PGM
    cv2.imwrite(str(tmp_path / "deep.pgm"), np.full((3, 4), 4000, np.uint16))
    (tmp_path / "broken.pgm").write_bytes(b"P5 9 9 255\n\x00")
    with pytest.raises(CameraError):
        load_images(tmp_path)  # broken.pgm: neither reader takes it
    (tmp_path / "broken.pgm").unlink()
    assert load_images(tmp_path)[0].shape == (3, 4)


def test_images_and_videos_opencv_decodes_reach_the_replay_as_it_reads_them(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(7)
    frames = [rng.integers(0, 256, (24, 32), dtype=np.uint8) for _ in range(3)]
    for index, frame in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{index}.png"), frame)
    read_pgm_too = tmp_path / "3.pgm"
    cv2.imwrite(str(read_pgm_too), frames[0])
    loaded = load_images(tmp_path)
    assert [frame.tolist() for frame in loaded] == [f.tolist() for f in [*frames, frames[0]]]
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (32, 24))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    clip = load_video(video)
    assert len(clip) == 3 and clip[0].shape == (24, 32) and clip[0].dtype == np.uint8
    (tmp_path / "not-a-video.avi").write_bytes(b"no frames here")
    with pytest.raises(CameraError, match="cannot read video"):
        load_video(tmp_path / "not-a-video.avi")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=64))
@example(b"P5\n\x00 \x00\n255")  # a header whose size is not a number
@example(b"P5\n-2 3\n255\n")
def test_a_garbled_frame_stream_is_refused_with_a_camera_error(stream: bytes) -> None:
    try:
        frames = list(_read_stream(io.BytesIO(stream)))
    except CameraError:
        return
    assert all(frame.dtype == np.uint8 and frame.ndim == 2 for frame in frames)
