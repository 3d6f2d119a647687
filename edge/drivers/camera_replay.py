"""Replays a video file, an image folder or frames in memory at a set rate, newest frame only."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge.clock import Clock, SystemClock
from edge.drivers.replay_decode import decoded_frames
from edge.errors import CameraError
from edge.ports import Frame, GrayFrame

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".pgm", ".tif", ".tiff")


# A binary 8-bit PGM: magic, width, height, maxval 255 (comments allowed), one whitespace, pixels.
_PGM_HEADER = re.compile(rb"P5(?:\s+(?:#[^\n]*\n\s*)*(\d+)){3}\s")
_PGM_FIELDS = re.compile(rb"(?:#[^\n]*\n)|(\d+)")


def read_pgm(data: bytes) -> GrayFrame | None:
    """An 8-bit binary PGM read with numpy alone (OpenCV stays unloaded), else None."""
    header = _PGM_HEADER.match(data)
    if header is None:
        return None
    fields = [int(m) for m in _PGM_FIELDS.findall(data[2 : header.end()]) if m]
    width, height, maxval = fields
    pixels = data[header.end() : header.end() + width * height]
    if maxval != 255 or width * height == 0 or len(pixels) != width * height:
        return None
    return np.frombuffer(pixels, dtype=np.uint8).reshape(height, width).copy()


def load_images(folder: Path) -> list[GrayFrame]:
    """Every image in `folder`, sorted by name, as grayscale frames.

    8-bit PGM frames are read with numpy alone; the other images are decoded by OpenCV in a
    child process, so replaying them does not load OpenCV into the gate."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise CameraError(f"replay: no images in {folder}")
    read: dict[Path, GrayFrame] = {}
    for path in paths:
        frame = read_pgm(path.read_bytes()) if path.suffix.lower() == ".pgm" else None
        if frame is not None:
            read[path] = frame
    others = [path for path in paths if path not in read]
    if others:
        decoded = decoded_frames(others, video=False)
        if len(decoded) != len(others):
            raise CameraError(f"replay: {len(decoded)} frames decoded of {len(others)} images")
        read.update(zip(others, decoded, strict=True))
    return [read[path] for path in paths]


def load_video(path: Path) -> list[GrayFrame]:
    """Every frame of a video file as grayscale frames (replays are short clips), decoded by
    OpenCV in a child process."""
    frames = decoded_frames([path], video=True)
    if not frames:
        raise CameraError(f"replay: cannot read video {path}")
    return frames


class ReplayFrameSource:
    """A FrameSource that plays frames on a schedule; frames not read in time are skipped."""

    def __init__(
        self,
        frames: Sequence[Frame],
        fps: float,
        *,
        loop: bool = True,
        clock: Clock | None = None,
    ) -> None:
        if not frames:
            raise CameraError("replay: no frames")
        if fps <= 0:
            raise CameraError("replay: frame rate must be positive")
        self._frames = list(frames)
        self._interval = 1.0 / fps
        self._loop = loop
        self._clock = clock or SystemClock()
        self._start = self._clock.monotonic()
        self._last_index = -1
        self._closed = threading.Event()
        self.skipped = 0  # frames that became due but were superseded before being read

    @classmethod
    def from_path(
        cls, path: str | Path, fps: float, *, loop: bool = True, clock: Clock | None = None
    ) -> ReplayFrameSource:
        """Replay an image folder or a video file."""
        source = Path(path)
        if source.is_dir():
            return cls(load_images(source), fps, loop=loop, clock=clock)
        if source.is_file():
            return cls(load_video(source), fps, loop=loop, clock=clock)
        raise CameraError(f"replay: no such file or folder: {source}")

    @property
    def finished(self) -> bool:
        """A replay that does not loop has handed out its last frame (or was closed)."""
        if self._closed.is_set():
            return True
        return not self._loop and self._last_index >= len(self._frames) - 1

    def _due_index(self) -> int:
        return int((self._clock.monotonic() - self._start) / self._interval + 1e-9)

    def read(self, timeout_s: float) -> tuple[float, Frame] | None:
        """The newest due frame not yet returned, waiting up to `timeout_s` for one."""
        deadline = self._clock.monotonic() + max(0.0, timeout_s)
        while not self._closed.is_set():
            index = self._due_index()
            if not self._loop and index >= len(self._frames):
                index = len(self._frames) - 1
                if self._last_index >= index:
                    return None  # the replay is over
            if index > self._last_index:
                if self._last_index >= 0:
                    self.skipped += index - self._last_index - 1
                self._last_index = index
                frame_time = self._start + index * self._interval
                return frame_time, self._frames[index % len(self._frames)]
            now = self._clock.monotonic()
            if now >= deadline:
                return None
            next_due = self._start + (self._last_index + 1) * self._interval
            self._clock.sleep(min(deadline, next_due) - now)
        raise CameraError("replay: source closed")

    def close(self) -> None:
        """Stop the replay."""
        self._closed.set()
